import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import layers from './scripts/eslint-layers.js';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'public/packs/',
      'models/.cache/',
      'tests/fixtures/',
      'dev-dist/',
      '.gpu-carry/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.{ts,tsx}', 'sw/**/*.ts'],
    plugins: { layers },
    rules: { 'layers/allowed-imports': 'error', 'layers/no-cycles': 'error' },
  },
  { files: ['src/**'], languageOptions: { globals: { ...globals.browser, ...globals.worker } } },
  { files: ['sw/**'], languageOptions: { globals: globals.serviceworker } },
  {
    files: ['tests/**', 'scripts/**', 'models/**', '*.config.*'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
