/**
 * The templates an import fills, downloaded on demand like a pack (never in
 * the app shell) from a configurable base URL and kept in Cache Storage, so
 * a second import, or one offline, does not fetch them again. Layout under
 * the base (public/templates/ in the repository): `<family>-<width>/`, each
 * component's `model.onnx` and `map.json` (models/templates/make_templates.py
 * writes exactly that folder), and `tokenizer/merges.txt`, CLIP's BPE merges,
 * which every family shares and from which the vocabulary is derived.
 */

import { GessoError } from '../../shared/errors';
import { clipVocabFromMerges, parseMerges, vocabJson } from '../tokenizer';
import type { TemplateFiles } from './import-checkpoint';
import { TEMPLATE_COMPONENTS, type Family, type Template, type TemplateMap } from './template';

export const TEMPLATE_CACHE = 'gesso-import-templates-v1';
/** Where templates are served unless Settings says otherwise: beside the app, like the demo pack. */
export const DEFAULT_TEMPLATE_BASE = './templates/';

async function get(url: string, signal?: AbortSignal): Promise<Uint8Array> {
  const cache = typeof caches === 'undefined' ? null : await caches.open(TEMPLATE_CACHE);
  const hit = await cache?.match(url);
  if (hit) return new Uint8Array(await hit.arrayBuffer());
  let response: Response;
  try {
    response = await fetch(url, { signal, credentials: 'omit' });
  } catch (error) {
    if (signal?.aborted) throw new GessoError('aborted', 'Cancelled.');
    throw new GessoError(
      'network',
      `The model template ${url} could not be downloaded (${String(error)}). Importing needs it once; connect and try again.`,
    );
  }
  if (!response.ok)
    throw new GessoError(
      'network',
      `The model template ${url} could not be downloaded (HTTP ${response.status}). Importing needs it once; connect and try again.`,
    );
  const bytes = new Uint8Array(await response.arrayBuffer());
  await cache?.put(url, new Response(bytes.slice()));
  return bytes;
}

/** The pack's tokenizer files from CLIP's merges.txt: the merges as they are, the vocabulary they imply. */
export function clipTokenizerFiles(merges: Uint8Array): TemplateFiles['tokenizer'] {
  const vocab = clipVocabFromMerges(parseMerges(new TextDecoder().decode(merges)));
  return { vocab: new TextEncoder().encode(vocabJson(vocab)), merges };
}

export function templateFetcher(base: string, signal?: AbortSignal) {
  return async (family: Family, width: 'full' | 'reduced'): Promise<TemplateFiles> => {
    const baseUrl = new URL(base, globalThis.location?.href);
    const root = new URL(`${family}-${width}/`, baseUrl).href;
    const components = {} as Template['components'];
    for (const c of TEMPLATE_COMPONENTS) {
      const map = JSON.parse(
        new TextDecoder().decode(await get(`${root}${c}/map.json`, signal)),
      ) as TemplateMap;
      components[c] = { graph: await get(`${root}${c}/model.onnx`, signal), map };
    }
    return {
      template: { family, width, components },
      tokenizer: clipTokenizerFiles(
        await get(new URL('tokenizer/merges.txt', baseUrl).href, signal),
      ),
    };
  };
}
