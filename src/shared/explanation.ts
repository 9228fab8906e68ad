/** Which word painted where: the engine's answer to an explain run, as the page shows and keeps it. */

export interface ExplainedWord {
  word: string;
  /** Grey levels over the whole image, row-major: 255 where the word drew most attention, 0 none. */
  map: Uint8Array;
}

export interface PromptExplanation {
  /** "Prompt", or the region's name. */
  label: string;
  prompt: string;
  words: ExplainedWord[];
}

export interface Explanation {
  width: number;
  height: number;
  prompts: PromptExplanation[];
}
