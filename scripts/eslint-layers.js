/**
 * ESLint rules that keep Gesso's layers apart (see the README's architecture):
 *
 *   shared  imports nothing of the app
 *   store   imports shared
 *   engine  imports store and shared
 *   sw      imports store and shared
 *   ui      imports store, shared and the engine's public face (index.ts, api.ts)
 *
 * `layers/allowed-imports` checks each relative import against that table;
 * `layers/no-cycles` reports a module that can reach itself through imports.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = process.cwd();
const ALLOWED = {
  shared: ['shared'],
  store: ['store', 'shared'],
  engine: ['engine', 'store', 'shared'],
  sw: ['sw', 'store', 'shared'],
  ui: ['ui', 'store', 'shared', 'engine-face'],
};
const ENGINE_FACE = ['src/engine/index.ts', 'src/engine/api.ts'];

function layerOf(file) {
  const rel = path.relative(root, file).split(path.sep).join('/');
  if (ENGINE_FACE.includes(rel)) return 'engine-face';
  if (rel.startsWith('sw/')) return 'sw';
  const match = /^src\/(shared|store|engine|ui)\//.exec(rel);
  if (match) return match[1] === 'engine' ? 'engine' : match[1];
  if (rel === 'src/main.tsx') return 'ui';
  return null;
}

function resolve(fromFile, spec) {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')])
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return null;
}

const allowedImports = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports follow the layer table in the README' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    if (!from) return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      const target = resolve(file, spec);
      if (!target) return;
      const to = layerOf(target);
      if (!to || to === from) return;
      const own = from === 'engine-face' ? 'engine' : from;
      const allowed = ALLOWED[own];
      const ok = allowed.includes(to) || (to === 'engine-face' && allowed.includes('engine'));
      if (!ok)
        context.report({
          node,
          message: `${own} may not import ${to === 'engine-face' ? 'the engine' : to} (${spec}); allowed: ${allowed.join(', ')}.`,
        });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
const graph = new Map();

function parseImports(file, source) {
  const deps = [];
  for (const match of source.matchAll(IMPORT_RE)) {
    const target = resolve(file, match[1] ?? match[2]);
    if (target && /\.tsx?$/.test(target)) deps.push(target);
  }
  return deps;
}

function importsOf(file) {
  let deps = graph.get(file);
  if (!deps) graph.set(file, (deps = parseImports(file, readFileSync(file, 'utf8'))));
  return deps;
}

/** A path of imports from `start` (whose text is `source`) back to itself, or null. */
function cycleThrough(start, source) {
  const seen = new Set();
  const stack = parseImports(start, source).map((next) => [next, [start, next]]);
  for (const [next] of stack) {
    if (next === start) return [start, start];
    seen.add(next);
  }
  while (stack.length) {
    const [file, trail] = stack.pop();
    for (const next of importsOf(file)) {
      if (next === start) return [...trail, start];
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push([next, [...trail, next]]);
    }
  }
  return null;
}

const noCycles = {
  meta: { type: 'problem', docs: { description: 'No import cycles in src/ and sw/' }, schema: [] },
  create(context) {
    return {
      Program(node) {
        if (!layerOf(context.filename)) return;
        const cycle = cycleThrough(context.filename, context.sourceCode.text);
        if (cycle)
          context.report({
            node,
            message: `Import cycle: ${cycle.map((f) => path.relative(root, f)).join(' -> ')}.`,
          });
      },
    };
  },
};

export default { rules: { 'allowed-imports': allowedImports, 'no-cycles': noCycles } };
