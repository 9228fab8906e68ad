/**
 * LoRA files (kohya `lora_unet_…`/`lora_te_…` with diffusers or ldm module
 * paths, `lora_down`/`lora_up`/`alpha`; diffusers/PEFT `lora_A`/`lora_B`)
 * matched to the template's weights by names built forward from the name
 * map, and fused: W += strength * (alpha / rank) * up @ down, with `down`
 * [r, in(, kh, kw)] and `up` [out, r(, 1, 1)] (3x3 convs included). A
 * missing alpha means alpha = rank.
 */

import { GessoError } from '../../shared/errors';
import { transpose } from './kernels';
import { jsLowRank, type LowRankAdd } from './ort-low-rank';
import {
  floatsOf,
  readTensorBytes,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from './safetensors';
import { elementCount } from './tensor';
import type { Family, Template, TemplateEntry } from './template';

export interface LoraModule {
  /** The diffusers key of the weight it changes. */
  key: string;
  down: SafetensorsEntry;
  up: SafetensorsEntry;
  rank: number;
  alpha: number;
}

export interface LoraPlan {
  /** The file's name without .safetensors (as A1111 writes it in `<lora:name:0.8>`). */
  name: string;
  file: Blob;
  strength: number;
  modules: Map<string, LoraModule>;
  /** Keys of the file no weight of the model has (counted, not used). */
  ignored: number;
}

const UNET_LDM = 'model.diffusion_model.';

/** Every name a LoRA may give the module of `entry`. */
export function loraNames(entry: TemplateEntry): string[] {
  const weight = entry.diffusers.slice(0, -'.weight'.length);
  const under = (s: string) => s.replaceAll('.', '_');
  if (entry.diffusers.startsWith('unet.')) {
    const module = weight.slice('unet.'.length);
    const ldm = entry.ldm.slice(UNET_LDM.length, -'.weight'.length);
    return [`lora_unet_${under(module)}`, `lora_unet_${under(ldm)}`, weight, module];
  }
  const text = weight.slice('text_encoder.'.length);
  return [`lora_te_${under(text)}`, `lora_te1_${under(text)}`, weight, text];
}

function targets(template: Template): Map<string, TemplateEntry> {
  const out = new Map<string, TemplateEntry>();
  for (const component of ['unet', 'text_encoder'] as const)
    for (const entry of template.components[component].map.entries) {
      if (!entry.diffusers.endsWith('.weight') || entry.shape.length < 2) continue;
      if (entry.module.includes('embedding')) continue;
      for (const name of loraNames(entry)) out.set(name, entry);
    }
  return out;
}

const PART = /^(.*)\.(lora_down\.weight|lora_up\.weight|lora_A\.weight|lora_B\.weight|alpha)$/;

function wrongFamily(name: string, family: Family, detail: string): GessoError {
  return new GessoError(
    'does-not-fit',
    `"${name}" is not a LoRA for this ${family === 'sd15' ? 'SD 1.5' : 'SD 2.x'} model (${detail}), so it was not applied. Nothing was changed.`,
  );
}

export async function planLora(
  file: Blob,
  header: SafetensorsHeader,
  template: Template,
  strength: number,
): Promise<LoraPlan> {
  const byName = targets(template);
  const groups = new Map<string, Partial<Record<'down' | 'up' | 'alpha', SafetensorsEntry>>>();
  let ignored = 0;
  for (const [key, entry] of header.entries) {
    const m = PART.exec(key);
    if (!m) {
      ignored++;
      continue;
    }
    const part =
      m[2]!.startsWith('lora_down') || m[2] === 'lora_A.weight'
        ? 'down'
        : m[2] === 'alpha'
          ? 'alpha'
          : 'up';
    const group = groups.get(m[1]!) ?? {};
    group[part] = entry;
    groups.set(m[1]!, group);
  }
  const name = header.name.replace(/\.safetensors$/i, '');
  const modules = new Map<string, LoraModule>();
  for (const [base, g] of groups) {
    const target = byName.get(base);
    if (!target || !g.down || !g.up) {
      ignored += Object.keys(g).length;
      continue;
    }
    const rank = g.down.shape[0]!;
    const out = target.shape[0]!;
    const inner = elementCount(target.shape) / out;
    if (
      g.up.shape[0] !== out ||
      g.up.shape[1] !== rank ||
      elementCount(g.down.shape) !== rank * inner
    )
      throw wrongFamily(
        header.name,
        template.family,
        `${base} is [${g.up.shape.join(', ')}] @ [${g.down.shape.join(', ')}] but the model's weight is [${target.shape.join(', ')}]`,
      );
    const alpha = g.alpha
      ? floatsOf(await readTensorBytes(file, g.alpha), g.alpha.dtype, `${base}.alpha`)[0]!
      : rank;
    modules.set(target.diffusers, { key: target.diffusers, down: g.down, up: g.up, rank, alpha });
  }
  if (modules.size === 0)
    throw wrongFamily(header.name, template.family, 'none of its layers has a name this model has');
  return { name, file, strength, modules, ignored };
}

/**
 * Adds each LoRA's update to `values`, in place: the weight in diffusers
 * order, or (`stored`) as the template stores it, [in, out] for a MatMul
 * weight; the update is then down^T @ up^T, so only the small factors are
 * transposed, never the weight.
 */
export async function fuseLoras(
  values: Float32Array,
  entry: TemplateEntry,
  loras: readonly LoraPlan[],
  order: 'diffusers' | 'stored' = 'diffusers',
  add: LowRankAdd = jsLowRank,
): Promise<void> {
  for (const lora of loras) {
    const module = lora.modules.get(entry.diffusers);
    if (!module || lora.strength === 0) continue;
    const what = `${lora.name}: ${module.key}`;
    const down = floatsOf(await readTensorBytes(lora.file, module.down), module.down.dtype, what);
    const up = floatsOf(await readTensorBytes(lora.file, module.up), module.up.dtype, what);
    const scale = Math.fround(lora.strength * (module.alpha / module.rank));
    const out = entry.shape[0]!;
    const { rank } = module;
    if (order === 'stored' && entry.transpose) {
      const inner = values.length / out;
      const downT = transpose(down, rank, inner, new Float32Array(down.length));
      const upT = transpose(up, out, rank, new Float32Array(up.length));
      await add(values, downT, upT, rank, inner, scale);
    } else await add(values, up, down, rank, out, scale);
  }
}
