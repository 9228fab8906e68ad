/**
 * The import tests' inputs, generated on demand into a cache outside the
 * repository (like models/realsize): the reduced-width templates
 * (models/templates/make_templates.py) and checkpoints/LoRAs made by
 * models/templates/checkpoints.py from the same architectures.
 */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  openAsBlob,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { clipTokenizerFiles } from '../../../../src/engine/import/fetch-template';
import type { TemplateFiles } from '../../../../src/engine/import/import-checkpoint';
import type { OpenSink } from '../../../../src/engine/import/write-models';
import {
  TEMPLATE_COMPONENTS,
  type Family,
  type Template,
  type TemplateMap,
} from '../../../../src/engine/import/template';

export const ROOT = resolve(__dirname, '../../../..');
const PYTHON = '/usr/bin/python3';
const TEMPLATES = join(ROOT, 'models/templates/make_templates.py');
const CHECKPOINTS = join(ROOT, 'models/templates/checkpoints.py');
export const CACHE =
  process.env.GESSO_IMPORT_TEST_CACHE ?? join(homedir(), '.cache/gesso/import-tests');

function python(args: string[]): string {
  return execFileSync(PYTHON, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 28,
  });
}

const sourceStamp = (() => {
  const h = createHash('sha256');
  for (const f of ['make_templates.py', 'names.py', 'checkpoints.py'])
    h.update(readFileSync(join(ROOT, 'models/templates', f)));
  return h.digest('hex').slice(0, 12);
})();

const templateDirs = new Map<Family, string>();

/** The reduced-width template folder (built once per source version; python is asked once per process). */
export function templateDir(family: Family): string {
  if (!templateDirs.has(family))
    templateDirs.set(
      family,
      python([TEMPLATES, '--family', family, '--width', 'reduced']).trim().split('\n').pop()!,
    );
  return templateDirs.get(family)!;
}

/** The tokenizer files every template shares (CLIP's merges, committed beside the app's templates). */
export function templateTokenizer(): TemplateFiles['tokenizer'] {
  return clipTokenizerFiles(
    new Uint8Array(readFileSync(join(ROOT, 'public/templates/tokenizer/merges.txt'))),
  );
}

const templates = new Map<Family, Template>();

/** A template folder's graphs and maps. */
export function readTemplate(dir: string, family: Family, width: 'full' | 'reduced'): Template {
  const components = {} as Template['components'];
  for (const c of TEMPLATE_COMPONENTS) {
    const map = JSON.parse(readFileSync(join(dir, c, 'map.json'), 'utf8')) as TemplateMap;
    components[c] = { graph: new Uint8Array(readFileSync(join(dir, c, 'model.onnx'))), map };
  }
  return { family, width, components };
}

export function loadTemplate(family: Family): Template {
  const known = templates.get(family);
  if (known) return known;
  const template = readTemplate(templateDir(family), family, 'reduced');
  templates.set(family, template);
  return template;
}

/** A generated file in the cache (made once per source version): `cmd` is checkpoints.py's subcommand and options. */
export function generated(name: string, cmd: string[]): string {
  const path = join(CACHE, sourceStamp, name);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    python([CHECKPOINTS, ...cmd, `${path}.part`]);
    renameSync(`${path}.part`, path);
  }
  return path;
}

export function checkpointsPy(args: string[]): string {
  return python([CHECKPOINTS, ...args]);
}

export async function blobOf(path: string): Promise<Blob> {
  return openAsBlob(path);
}

/** Pack files written into a folder, each with its size and SHA-256. */
export function dirSink(dir: string): OpenSink {
  return async (path) => {
    const parts: Uint8Array[] = [];
    return {
      write: async (bytes) => void parts.push(bytes.slice()),
      close: async () => {
        const full = join(dir, path);
        mkdirSync(dirname(full), { recursive: true });
        const body = Buffer.concat(parts);
        writeFileSync(full, body);
        return { path, size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
      },
    };
  };
}

/** checkpoints.py fused's output: diffusers key -> the expected float32 values. */
export function readFused(dir: string): Map<string, Float32Array> {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<
    string,
    [number, number]
  >;
  const b = readFileSync(join(dir, 'values.f32'));
  const all = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  return new Map(Object.entries(index).map(([k, [at, n]]) => [k, all.subarray(at, at + n)]));
}
