/**
 * How an image was made (its recipe), as PNG text:
 * - `parameters`: the Stable Diffusion ecosystem's text (AUTOMATIC1111 style),
 *   read by other tools and written by them;
 * - `gesso-recipe`: the full recipe as JSON, for an exact restore.
 */

import { modelHash, promptWithLoras, splitLoraTags, type ModelSource } from './model-source';
import type { PngTextEntry, TextChunkOptions } from './png-text';
import type { DecoderChoice, Recipe, RecipeDraft, RunInfo } from './recipe';
import { MAX_SEED } from './random';
import type { RegionLayoutJson } from './regions/layout';

export const PARAMETERS_KEYWORD = 'parameters';
export const GESSO_RECIPE_KEYWORD = 'gesso-recipe';
export const GESSO_RECIPE_FORMAT = 'gesso-recipe@1';

// ---------------------------------------------------------------- parameters text

/** Quotes a value the way A1111 does when it holds a comma, colon or newline. */
function quote(value: string): string {
  return /[,:\n]/.test(value) ? JSON.stringify(value) : value;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // Not JSON after all: keep the raw text, as A1111 does.
    }
  }
  return value;
}

const DECODER_NAMES: Record<DecoderChoice, string> = { full: 'Full', fast: 'Fast' };

/**
 * `<prompt>\nNegative prompt: <neg>\nSteps: 4, Sampler: LCM, CFG scale: 4, Seed: 1, Size: 64x64, Model: …`
 * For a pack imported from a model file: `Model hash: <10 hex>, Model: <file name>`, and each
 * LoRA's `<lora:name:0.8>` appended to the prompt, as A1111 writes them.
 */
export function formatParameters(recipe: Recipe, run?: Partial<RunInfo>): string {
  const { model } = recipe;
  const fields: [string, string | number | undefined][] = [
    ['Steps', recipe.steps],
    ['Sampler', recipe.sampler],
    ['CFG scale', recipe.guidance],
    ['Seed', recipe.seed],
    ['Size', `${recipe.width}x${recipe.height}`],
    ['Model hash', model?.sha256 && modelHash(model.sha256)],
    ['Model', model ? model.name : recipe.pack.id],
    ['Model version', recipe.pack.version],
    ['Model variant', recipe.pack.variant],
    // Followed a drawn outline (ControlNet): its strength; the outline itself is in the Gesso recipe.
    ['Outline strength', recipe.outline?.strength],
    // The final decoder, where the pack has two (Full: its VAE; Fast: its TAESD-style decoder).
    ['Decoder', recipe.decoder && DECODER_NAMES[recipe.decoder]],
    ['Backend', run?.backend],
    ['Software', 'Gesso'],
  ];
  const settings = fields
    .filter(
      (field): field is [string, string | number] => field[1] !== undefined && field[1] !== '',
    )
    .map(([key, value]) => `${key}: ${quote(String(value))}`)
    .join(', ');
  const lines = [promptWithLoras(recipe.prompt, model?.loras ?? [])];
  if (recipe.negativePrompt) lines.push(`Negative prompt: ${recipe.negativePrompt}`);
  lines.push(settings);
  return lines.join('\n');
}

// A1111's re_param: `key: value` or `key: "quoted, value"`, comma separated.
const PARAM = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;

/** The `key: value` pairs of a settings line, or null when it is not one. */
function parseSettings(line: string): Map<string, string> | null {
  const found = new Map<string, string>();
  for (const match of line.matchAll(PARAM)) found.set(match[1]!.trim(), unquote(match[2]!.trim()));
  return found.size >= 3 ? found : null;
}

function toNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * Reads A1111-style `parameters` text. Fields it does not know are ignored;
 * fields it lacks stay undefined. A seed Gesso cannot run (other tools use
 * 64-bit seeds) is left out of the draft and given back as written.
 */
export function parseParametersText(text: string): { draft: RecipeDraft; seedText?: string } {
  const allLines = text.trim().split('\n');
  let settings = parseSettings(allLines[allLines.length - 1] ?? '');
  const lines = settings ? allLines.slice(0, -1) : allLines;
  settings ??= new Map();
  const prompt: string[] = [];
  const negative: string[] = [];
  let inNegative = false;
  for (const raw of lines) {
    let line = raw.trim();
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      line = line.slice('Negative prompt:'.length).trim();
    }
    (inNegative ? negative : prompt).push(line);
  }
  // LoRA tags are not words of the prompt: Gesso applies LoRAs to a pack, not while generating.
  const draft: RecipeDraft = {
    prompt: splitLoraTags(prompt.join('\n')).prompt,
    negativePrompt: negative.join('\n'),
  };
  const steps = toNumber(settings.get('Steps'));
  const guidance = toNumber(settings.get('CFG scale'));
  if (steps !== undefined) draft.steps = steps;
  if (guidance !== undefined) draft.guidance = guidance;
  const seedText = settings.get('Seed')?.trim();
  let unusableSeed: string | undefined;
  if (seedText) {
    // Digits only and within 32 bits: anything else would run as another number.
    const seed = /^[0-9]+$/.test(seedText) ? Number(seedText) : NaN;
    if (Number.isSafeInteger(seed) && seed <= MAX_SEED) draft.seed = seed;
    else unusableSeed = seedText;
  }
  const size = /^(\d+)x(\d+)$/.exec(settings.get('Size') ?? '');
  if (size) {
    draft.width = Number(size[1]);
    draft.height = Number(size[2]);
  }
  const sampler = settings.get('Sampler');
  if (sampler) draft.sampler = sampler;
  const decoder = settings.get('Decoder');
  if (decoder === 'Full' || decoder === 'Fast')
    draft.decoder = decoder === 'Fast' ? 'fast' : 'full';
  const pack: Partial<Recipe['pack']> = {};
  const model = settings.get('Model');
  const version = settings.get('Model version');
  const variant = settings.get('Model variant');
  if (model) pack.id = model;
  if (version) pack.version = version;
  if (variant) pack.variant = variant;
  if (Object.keys(pack).length > 0) draft.pack = pack;
  return unusableSeed === undefined ? { draft } : { draft, seedText: unusableSeed };
}

/** `parseParametersText`'s draft (a seed Gesso cannot run is left out). */
export function parseParameters(text: string): RecipeDraft {
  return parseParametersText(text).draft;
}

// ---------------------------------------------------------------- gesso-recipe JSON

export interface GessoRecipeDocument {
  format: typeof GESSO_RECIPE_FORMAT;
  recipe: Recipe;
  run?: RunInfo;
  createdAt?: number;
}

export function formatGessoRecipe(recipe: Recipe, run?: RunInfo, createdAt?: number): string {
  const document: GessoRecipeDocument = { format: GESSO_RECIPE_FORMAT, recipe };
  if (run) document.run = run;
  if (createdAt !== undefined) document.createdAt = createdAt;
  return JSON.stringify(document);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Gesso's seeds: whole numbers from 0 to MAX_SEED (src/shared/random.ts). */
function isSeed(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_SEED;
}

function modelSourceFrom(value: unknown): ModelSource | null {
  if (!isRecord(value) || typeof value.name !== 'string' || !Array.isArray(value.loras))
    return null;
  const loras = value.loras.filter(
    (l): l is { name: string; strength: number } =>
      isRecord(l) &&
      typeof l.name === 'string' &&
      typeof l.strength === 'number' &&
      Number.isFinite(l.strength),
  );
  const source: ModelSource = {
    name: value.name,
    loras: loras.map((l) => ({ name: l.name, strength: l.strength })),
  };
  if (typeof value.sha256 === 'string' && /^[0-9a-f]{64}$/.test(value.sha256))
    source.sha256 = value.sha256;
  return source;
}

/** The recipe from a `gesso-recipe` chunk, or null when the text is not one. */
export function parseGessoRecipe(text: string): Recipe | null {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(document) || document.format !== GESSO_RECIPE_FORMAT || !isRecord(document.recipe))
    return null;
  const r = document.recipe;
  const pack = r.pack;
  const numbers = [r.steps, r.guidance, r.seed, r.width, r.height];
  if (
    typeof r.prompt !== 'string' ||
    typeof r.negativePrompt !== 'string' ||
    !isRecord(pack) ||
    typeof pack.id !== 'string' ||
    typeof pack.version !== 'string' ||
    typeof pack.variant !== 'string' ||
    !numbers.every((n) => typeof n === 'number' && Number.isFinite(n)) ||
    !isSeed(r.seed)
  )
    return null;
  const recipe: Recipe = {
    prompt: r.prompt,
    negativePrompt: r.negativePrompt,
    pack: { id: pack.id, version: pack.version, variant: pack.variant },
    steps: r.steps as number,
    guidance: r.guidance as number,
    seed: r.seed as number,
    width: r.width as number,
    height: r.height as number,
  };
  if (typeof r.sampler === 'string') recipe.sampler = r.sampler;
  if (r.decoder === 'full' || r.decoder === 'fast') recipe.decoder = r.decoder;
  // Kept as written; decodeLayout checks it where it is used (Create, the engine).
  if (isRecord(r.regions)) recipe.regions = r.regions as unknown as RegionLayoutJson;
  const start = isRecord(r.startImage) ? r.startImage.strength : undefined;
  if (typeof start === 'number' && start >= 0 && start <= 1)
    recipe.startImage = { strength: start };
  const repaint = r.repaint;
  if (
    isRecord(repaint) &&
    (repaint.parent === null || typeof repaint.parent === 'string') &&
    Array.isArray(repaint.mask) &&
    repaint.mask.every((n) => Number.isInteger(n) && (n as number) >= 0)
  )
    recipe.repaint = { parent: repaint.parent, mask: repaint.mask as number[] };
  const model = modelSourceFrom(r.model);
  if (model) recipe.model = model;
  const outline = r.outline;
  if (
    isRecord(outline) &&
    typeof outline.strength === 'number' &&
    Number.isFinite(outline.strength) &&
    Array.isArray(outline.mask) &&
    outline.mask.every((n) => Number.isInteger(n) && (n as number) >= 0)
  )
    recipe.outline = { strength: outline.strength, mask: outline.mask as number[] };
  return recipe;
}

// ---------------------------------------------------------------- both, as PNG text

/** Above this many characters the Gesso recipe (long region strokes) is written zlib-compressed. */
export const COMPRESS_RECIPE_ABOVE = 4096;

/**
 * The text chunks to write into a PNG for this recipe: `parameters` as plain
 * tEXt/iTXt (what other tools read), and the Gesso recipe, compressed when long.
 */
export function recipeTextEntries(
  recipe: Recipe,
  run?: RunInfo,
  createdAt?: number,
): { keyword: string; text: string; options?: TextChunkOptions }[] {
  const json = formatGessoRecipe(recipe, run, createdAt);
  return [
    { keyword: PARAMETERS_KEYWORD, text: formatParameters(recipe, run) },
    {
      keyword: GESSO_RECIPE_KEYWORD,
      text: json,
      options: { compress: json.length > COMPRESS_RECIPE_ABOVE },
    },
  ];
}

export interface RestoredRecipe {
  draft: RecipeDraft;
  /** True when it came from Gesso's own chunk (every field exact). */
  exact: boolean;
  /** The seed as written where Gesso cannot run it (beyond 0 to 4294967295, e.g. another tool's 64-bit seed). */
  seedText?: string;
}

/**
 * What is wrong with a PNG's Gesso recipe, in a sentence naming the field,
 * or null when there is none or it is sound.
 */
export function gessoRecipeProblem(entries: PngTextEntry[]): string | null {
  const entry = entries.find((e) => e.keyword === GESSO_RECIPE_KEYWORD);
  if (!entry || parseGessoRecipe(entry.text)) return null;
  const intro = 'This PNG has a Gesso recipe that cannot be used:';
  let document: unknown;
  try {
    document = JSON.parse(entry.text);
  } catch {
    return `${intro} it is not valid JSON.`;
  }
  if (!isRecord(document) || document.format !== GESSO_RECIPE_FORMAT)
    return `${intro} its format is not ${GESSO_RECIPE_FORMAT}.`;
  if (!isRecord(document.recipe)) return `${intro} it holds no recipe.`;
  const r = document.recipe;
  const shown = (value: unknown) => (value === undefined ? 'missing' : JSON.stringify(value));
  for (const key of ['prompt', 'negativePrompt'])
    if (typeof r[key] !== 'string') return `${intro} its ${key} is ${shown(r[key])}, not text.`;
  for (const key of ['steps', 'guidance', 'seed', 'width', 'height'])
    if (typeof r[key] !== 'number' || !Number.isFinite(r[key]))
      return `${intro} its ${key} is ${shown(r[key])}, not a number.`;
  if (!isSeed(r.seed))
    return `${intro} its seed is ${shown(r.seed)}, not a whole number from 0 to ${MAX_SEED}.`;
  return `${intro} its model (pack id, version and variant) is ${shown(r.pack)}.`;
}

/** The recipe carried by a PNG's text chunks: Gesso's own first, then `parameters`. */
export function recipeFromText(entries: PngTextEntry[]): RestoredRecipe | null {
  for (const entry of entries) {
    if (entry.keyword !== GESSO_RECIPE_KEYWORD) continue;
    const recipe = parseGessoRecipe(entry.text);
    if (recipe) return { draft: recipe, exact: true };
  }
  const parameters = entries.find((entry) => entry.keyword === PARAMETERS_KEYWORD);
  if (parameters) return { ...parseParametersText(parameters.text), exact: false };
  return null;
}
