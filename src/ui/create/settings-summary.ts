/** The one line on the "Settings" button: model, steps, guidance, seed and decoder. Pure. */

import type { DecoderChoice } from '../../shared/recipe';

export interface SummaryFacts {
  model: string;
  steps: number | null;
  /** null: the model has no guidance. */
  guidance: number | null;
  /** null: a new seed each run. */
  seed: number | null;
  /** null: the model has one decoder. */
  decoder: DecoderChoice | null;
}

/** A model's short name: "Gesso demo: emoji" reads "Demo", others keep their name (cut to 24 characters). */
export function shortModelName(name: string): string {
  if (/^gesso demo\b/i.test(name) || name === 'Built-in demo') return 'Demo';
  return name.length > 24 ? `${name.slice(0, 23)}…` : name;
}

/** e.g. "Demo · 4 steps · guidance 4 · seed 12 · Full decoder". */
export function settingsSummary(facts: SummaryFacts): string {
  const parts = [shortModelName(facts.model)];
  if (facts.steps !== null) parts.push(`${facts.steps} ${facts.steps === 1 ? 'step' : 'steps'}`);
  if (facts.guidance !== null) parts.push(`guidance ${facts.guidance}`);
  parts.push(facts.seed === null ? 'new seed each run' : `seed ${facts.seed}`);
  if (facts.decoder !== null) parts.push(`${facts.decoder === 'fast' ? 'Fast' : 'Full'} decoder`);
  return parts.join(' · ');
}
