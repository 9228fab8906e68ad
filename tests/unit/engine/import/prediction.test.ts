/**
 * SD 2.x prediction types through the import: a file whose metadata says v
 * makes a pack whose manifest says v; a file that says nothing is inspected
 * as "unknown" (the form asks), refused without an answer, and imported
 * with the one given; SD 1.5 packs record epsilon.
 */

import { describe, expect, it } from 'vitest';
import {
  importCheckpoint,
  type TemplateFiles,
} from '../../../../src/engine/import/import-checkpoint';
import { inspectModelFile } from '../../../../src/engine/import/service';
import type { Family } from '../../../../src/engine/import/template';
import type { OpenSink } from '../../../../src/engine/import/write-models';
import { blobOf, generated, loadTemplate } from './fixtures';

const SLOW = { timeout: 300_000 };

const getTemplate = async (family: Family): Promise<TemplateFiles> => ({
  template: loadTemplate(family),
  tokenizer: { vocab: new Uint8Array(1), merges: new Uint8Array(1) },
});

/** Counts bytes and keeps nothing: these tests look at the manifest only. */
const nowhere: OpenSink = async (path) => {
  let size = 0;
  return {
    write: async (bytes) => void (size += bytes.length),
    close: async () => ({ path, size, sha256: '0'.repeat(64) }),
  };
};

const sd21 = (v: boolean) =>
  generated(`sd21-ldm-F16-default${v ? '-v' : ''}.safetensors`, [
    'checkpoint',
    '--family',
    'sd21',
    '--layout',
    'ldm',
    '--dtype',
    'F16',
    ...(v ? ['--v-prediction'] : []),
  ]);

async function fileOf(path: string, name: string): Promise<File> {
  return new File([await blobOf(path)], name);
}

describe('prediction type through the import', () => {
  it('an SD 2.x file whose metadata says v makes a pack that samples with v', SLOW, async () => {
    const file = await fileOf(sd21(true), 'sd21-768.safetensors');
    expect(await inspectModelFile({ file })).toEqual({ family: 'sd21', prediction: 'v' });
    const { manifest } = await importCheckpoint({ file, name: file.name }, getTemplate, nowhere);
    expect(manifest.scheduler.prediction).toBe('v');
  });

  it(
    'an SD 2.x file that does not say: inspected as unknown, refused unanswered, imported with the answer',
    SLOW,
    async () => {
      const file = await fileOf(sd21(false), 'sd21-unsaid.safetensors');
      expect(await inspectModelFile({ file })).toEqual({ family: 'sd21', prediction: null });
      await expect(
        importCheckpoint({ file, name: file.name }, getTemplate, nowhere),
      ).rejects.toThrow(/does not say whether it predicts noise \(epsilon\) or v/);
      for (const prediction of ['v', 'epsilon'] as const) {
        const { manifest } = await importCheckpoint(
          { file, name: file.name },
          getTemplate,
          nowhere,
          {
            prediction,
          },
        );
        expect(manifest.scheduler.prediction).toBe(prediction);
      }
    },
  );

  it('SD 1.5 packs record epsilon', SLOW, async () => {
    const path = generated('sd15-ldm-F16-default.safetensors', [
      'checkpoint',
      '--layout',
      'ldm',
      '--dtype',
      'F16',
    ]);
    const file = await fileOf(path, 'sd15.safetensors');
    const { manifest } = await importCheckpoint({ file, name: file.name }, getTemplate, nowhere);
    expect(manifest.scheduler.prediction).toBe('epsilon');
  });
});
