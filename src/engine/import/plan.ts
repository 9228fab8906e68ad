/**
 * Which checkpoint tensor fills which template weight: every weight of the
 * four templates must find its key in the file's layout (missing keys are
 * refused, naming the first five); keys no weight reads (EMA copies,
 * OpenCLIP's unused last layer) are counted and ignored.
 */

import { GessoError } from '../../shared/errors';
import type { Detected } from './detect';
import type { SafetensorsEntry, SafetensorsHeader } from './safetensors';
import {
  TEMPLATE_COMPONENTS,
  sourceKey,
  type Template,
  type TemplateComponent,
  type TemplateEntry,
} from './template';

export interface TensorJob {
  entry: TemplateEntry;
  source: SafetensorsEntry;
  /** OpenCLIP's stacked q/k/v (ldm layout): which third of the source rows; else null. */
  third: number | null;
}

export interface ImportPlan {
  components: { component: TemplateComponent; jobs: TensorJob[] }[];
  /** Checkpoint keys no template weight reads. */
  ignored: number;
  /** Checkpoint bytes read (a key read for several weights counts each time). */
  bytesIn: number;
  /** Bytes the data files will hold. */
  bytesOut: number;
}

export function planImport(
  header: SafetensorsHeader,
  detected: Detected,
  template: Template,
): ImportPlan {
  const used = new Set<string>();
  const missing: string[] = [];
  const components: ImportPlan['components'] = [];
  let bytesIn = 0;
  let bytesOut = 0;
  for (const component of TEMPLATE_COMPONENTS) {
    const jobs: TensorJob[] = [];
    const entries = [...template.components[component].map.entries].sort(
      (a, b) => a.offset - b.offset,
    );
    for (const entry of entries) {
      const key = sourceKey(entry, detected.layout);
      const source = header.entries.get(key);
      if (!source) {
        missing.push(key);
        continue;
      }
      const third = detected.layout === 'ldm' ? entry.ldmThird : null;
      const want = detected.layout === 'ldm' ? entry.ldmShape : entry.shape;
      if (source.shape.join('x') !== want.join('x'))
        throw new GessoError(
          'does-not-fit',
          `"${header.name}" holds ${key} as [${source.shape.join(', ')}] where ${detected.family === 'sd15' ? 'SD 1.5' : 'SD 2.x'} has [${want.join(', ')}], so it is not a model Gesso can import. Nothing was changed.`,
        );
      used.add(key);
      jobs.push({ entry, source, third });
      bytesIn += (source.end - source.begin) / (third === null ? 1 : 3);
      bytesOut += entry.length;
    }
    components.push({ component, jobs });
  }
  if (missing.length)
    throw new GessoError(
      'does-not-fit',
      `"${header.name}" lacks ${missing.length} of the weights an ${detected.family === 'sd15' ? 'SD 1.5' : 'SD 2.x'} model needs, so it was not imported (first missing: ${missing.slice(0, 5).join(', ')}). Nothing was changed.`,
    );
  return { components, ignored: header.entries.size - used.size, bytesIn, bytesOut };
}
