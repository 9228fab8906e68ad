/** The layer rule refuses what the README's architecture forbids, and lets the rest through. */

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId?.startsWith('layers/')).map((m) => m.message);
}

describe('layers/allowed-imports', () => {
  it('lets the page use the engine only through its public face', async () => {
    expect(
      await problems('src/ui/x.ts', "export type { EngineApi } from '../engine/api';\n"),
    ).toEqual([]);
    expect(
      await problems('src/ui/x.ts', "export { Pipeline } from '../engine/pipelines';\n"),
    ).toEqual([expect.stringMatching(/^ui may not import engine/)]);
  });

  it('keeps store below the engine and shared below everything', async () => {
    expect(await problems('src/store/x.ts', "export * from '../engine/api';\n")).toEqual([
      expect.stringMatching(/^store may not import the engine/),
    ]);
    expect(await problems('src/shared/x.ts', "export * from '../store/records';\n")).toEqual([
      expect.stringMatching(/^shared may not import store/),
    ]);
    expect(await problems('sw/x.ts', "export * from '../src/store/records';\n")).toEqual([]);
  });
});
