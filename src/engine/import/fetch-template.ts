/**
 * The templates an import fills, downloaded on demand like a pack (never in
 * the app shell) from a configurable base URL and kept in Cache Storage, so
 * a second import, or one offline, does not fetch them again. Layout under
 * the base: `<family>-<width>/template.json`, each component's `model.onnx`
 * and `map.json`, and `tokenizer/vocab.json`, `merges.txt`
 * (models/templates/make_templates.py writes exactly that folder).
 */

import { GessoError } from '../../shared/errors';
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

export function templateFetcher(base: string, signal?: AbortSignal) {
  return async (family: Family, width: 'full' | 'reduced'): Promise<TemplateFiles> => {
    const root = new URL(`${family}-${width}/`, new URL(base, globalThis.location?.href)).href;
    const components = {} as Template['components'];
    for (const c of TEMPLATE_COMPONENTS) {
      const map = JSON.parse(
        new TextDecoder().decode(await get(`${root}${c}/map.json`, signal)),
      ) as TemplateMap;
      components[c] = { graph: await get(`${root}${c}/model.onnx`, signal), map };
    }
    return {
      template: { family, width, components },
      tokenizer: {
        vocab: await get(`${root}tokenizer/vocab.json`, signal),
        merges: await get(`${root}tokenizer/merges.txt`, signal),
      },
    };
  };
}
