/**
 * What the Create screen holds between screens and across a reload: the
 * prompt, the settings, the typed text of the number fields, the open tool,
 * the decoder, the outline strength, the shown result (its gallery id) and
 * whether a run was under way. Read back field by field: anything damaged
 * falls back to a fresh value. Pure.
 */

import type { DecoderChoice } from '../../shared/recipe';
import { initialChoices, type CreateChoices } from './create-choices';
import { NO_DRAFTS, type FieldDrafts } from './number-fields';
import { TOOLS, type Tool } from './tools';

export interface CreateState {
  prompt: string;
  choices: CreateChoices;
  drafts: FieldDrafts;
  tool: Tool | null;
  /** null: the pack's default decoder (until the person chooses). */
  decoder: DecoderChoice | null;
  /** null: the pack's default. */
  outlineStrength: number | null;
  /** Sentences about the values now in the fields (a recipe's seed refused, a reload's lost run). */
  notices: string[];
  /** The gallery item of the result on the canvas, to show it again after a reload. */
  resultId: string | null;
  /** A run started and had not ended: found true after a reload, it was interrupted. */
  running: boolean;
}

export function freshCreateState(seed: number): CreateState {
  return {
    prompt: '',
    choices: initialChoices(seed),
    drafts: NO_DRAFTS,
    tool: null,
    decoder: null,
    outlineStrength: null,
    notices: [],
    resultId: null,
    running: false,
  };
}

export const INTERRUPTED_RUN =
  'The page was reloaded while an image was being made, so that run was lost. Your prompt and settings are back: press Generate to run it again.';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const text = (v: unknown): v is string => typeof v === 'string';
const orNull = <T>(v: unknown, ok: (v: unknown) => v is T): T | null | undefined =>
  v === null ? null : ok(v) ? v : undefined;

/**
 * The state saved by `serializeCreateState`, or a fresh one where it cannot
 * be read. A run found under way is reported (and no longer under way).
 */
export function restoreCreateState(json: string | null, seed: number): CreateState {
  const fresh = freshCreateState(seed);
  if (!json) return fresh;
  let saved: unknown;
  try {
    saved = JSON.parse(json);
  } catch {
    return fresh;
  }
  if (!isRecord(saved)) return fresh;
  const c = isRecord(saved.choices) ? saved.choices : {};
  const d = isRecord(saved.drafts) ? saved.drafts : {};
  const choices: CreateChoices = {
    steps: orNull(c.steps, finite) ?? fresh.choices.steps,
    guidance: orNull(c.guidance, finite) ?? fresh.choices.guidance,
    seed: Number.isSafeInteger(c.seed) ? (c.seed as number) : fresh.choices.seed,
    fixedSeed: typeof c.fixedSeed === 'boolean' ? c.fixedSeed : fresh.choices.fixedSeed,
    negativePrompt: text(c.negativePrompt) ? c.negativePrompt : '',
  };
  const drafts: FieldDrafts = {
    steps: orNull(d.steps, text) ?? null,
    seed: orNull(d.seed, text) ?? null,
    guidance: orNull(d.guidance, text) ?? null,
  };
  const tool = (TOOLS as readonly unknown[]).includes(saved.tool) ? (saved.tool as Tool) : null;
  const decoder = saved.decoder === 'full' || saved.decoder === 'fast' ? saved.decoder : null;
  const notices = Array.isArray(saved.notices) ? saved.notices.filter(text) : [];
  const running = saved.running === true;
  return {
    prompt: text(saved.prompt) ? saved.prompt : '',
    choices,
    drafts,
    tool,
    decoder,
    outlineStrength: finite(saved.outlineStrength) ? saved.outlineStrength : null,
    notices: running ? [...notices.filter((n) => n !== INTERRUPTED_RUN), INTERRUPTED_RUN] : notices,
    resultId: text(saved.resultId) ? saved.resultId : null,
    running: false,
  };
}

export function serializeCreateState(state: CreateState): string {
  return JSON.stringify(state);
}
