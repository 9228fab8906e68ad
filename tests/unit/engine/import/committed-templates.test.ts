/**
 * The full-size templates the built app serves (public/templates/, made by
 * models/templates/make_templates.py --publish) cannot rot unnoticed: their
 * maps are total and 1:1 against their own graphs, they were made from the
 * sources as they are now (template.json records each source's SHA-256), and
 * nothing else sits in their folders. The CLIP tokenizer beside them is
 * openai's merges file, and the vocabulary derived from it encodes as CLIP does.
 */

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TEMPLATE_COMPONENTS } from '../../../../src/engine/import/template';
import { ClipTokenizer, parseMerges, parseVocab } from '../../../../src/engine/tokenizer';
import { ROOT, readTemplate, templateTokenizer } from './fixtures';
import { expectTotalAndOneToOne } from './map-checks';

const PUBLISHED = join(ROOT, 'public/templates');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split('\\').join('/'))
    .sort();
}

describe('the committed full-size templates', () => {
  for (const family of ['sd15', 'sd21'] as const) {
    const dir = join(PUBLISHED, `${family}-full`);

    it(`${family}: maps total and 1:1 against the committed graphs, at full width`, async () => {
      const template = readTemplate(dir, family, 'full');
      await expectTotalAndOneToOne(template);
      const entry = (component: (typeof TEMPLATE_COMPONENTS)[number], module: string) =>
        template.components[component].map.entries.find((e) => e.module === module)!;
      expect(entry('unet', 'conv_in.weight').shape).toEqual([320, 4, 3, 3]);
      expect(entry('text_encoder', 'token_embedding.weight').shape).toEqual([
        49408,
        family === 'sd15' ? 768 : 1024,
      ]);
      for (const c of TEMPLATE_COMPONENTS)
        expect(template.components[c].map).toMatchObject({ family, width: 'full', component: c });
    });

    it(`${family}: made from the sources as they are now`, () => {
      const info = JSON.parse(readFileSync(join(dir, 'template.json'), 'utf8')) as {
        sources: Record<string, string>;
      };
      expect(Object.keys(info.sources)).toContain('models/templates/make_templates.py');
      const stale = Object.entries(info.sources)
        .filter(
          ([path, sha]) =>
            createHash('sha256')
              .update(readFileSync(join(ROOT, path)))
              .digest('hex') !== sha,
        )
        .map(([path]) => path);
      // When this fails: /usr/bin/python3 models/templates/make_templates.py --family all --width full --publish
      expect(stale, 'sources changed since public/templates was made').toEqual([]);
    });

    it(`${family}: holds its graphs, maps and template.json only`, () => {
      expect(filesUnder(dir)).toEqual(
        [
          'template.json',
          ...TEMPLATE_COMPONENTS.flatMap((c) => [`${c}/map.json`, `${c}/model.onnx`]),
        ].sort(),
      );
    });
  }

  it('all of public/templates stays a few MB', () => {
    const bytes = filesUnder(PUBLISHED).reduce((n, f) => n + statSync(join(PUBLISHED, f)).size, 0);
    expect(bytes).toBeLessThan(6_000_000);
    expect(relative(ROOT, PUBLISHED)).toBe('public/templates');
  });
});

describe("the templates' CLIP tokenizer", () => {
  it("is openai/CLIP's merges file, the 48,894 merges its tokenizer uses", () => {
    const published = parseMerges(readFileSync(join(PUBLISHED, 'tokenizer/merges.txt'), 'utf8'));
    const original = gunzipSync(
      readFileSync(join(ROOT, 'tests/fixtures/clip/bpe_simple_vocab_16e6.txt.gz')),
    )
      .toString('utf8')
      .split('\n')
      .slice(1, 49152 - 256 - 2 + 1);
    expect(published).toEqual(original);
    expect(readFileSync(join(PUBLISHED, 'tokenizer/LICENSE'), 'utf8')).toContain('OpenAI');
  });

  it('gives the vocabulary CLIP builds, and encodes a prompt as CLIP does', () => {
    const files = templateTokenizer();
    const vocab = parseVocab(new TextDecoder().decode(files.vocab));
    expect(vocab.size).toBe(49408);
    expect(vocab.get('!')).toBe(0);
    expect(vocab.get('!</w>')).toBe(256);
    expect(vocab.get('<|startoftext|>')).toBe(49406);
    expect(vocab.get('<|endoftext|>')).toBe(49407);
    const tokenizer = new ClipTokenizer(
      vocab,
      parseMerges(new TextDecoder().decode(files.merges)),
      { maxLength: 77, bosTokenId: 49406, eosTokenId: 49407, padTokenId: 49407 },
    );
    // openai/clip-vit-large-patch14's ids for this prompt (diffusers' documentation example)
    expect(
      Array.from(tokenizer.encode('a photograph of an astronaut riding a horse').slice(0, 11)),
    ).toEqual([49406, 320, 8853, 539, 550, 18376, 6765, 320, 4558, 49407, 49407]);
  });
});
