/** What the token counter under the Prompt says. Pure. */

import type { TokenCount } from '../../engine/api';

/** Words listed by name at most; the rest are counted. */
export const LISTED_WORDS = 20;

/** "12 / 77": tokens the text encoder gets, against its limit. */
export function tokenLine(count: Pick<TokenCount, 'used' | 'max'>): string {
  return `${count.used} / ${count.max}`;
}

/** The words past the limit, named (null when everything fits). */
export function leftOutSentence(count: Pick<TokenCount, 'max' | 'leftOut'>): string | null {
  const { leftOut, max } = count;
  if (leftOut.length === 0) return null;
  const listed = leftOut.slice(0, LISTED_WORDS).join(' ');
  const more = leftOut.length - LISTED_WORDS;
  const rest = more > 0 ? ` and ${more} more ${more === 1 ? 'word' : 'words'}` : '';
  return `Too long: this model reads only the first ${max} tokens, so it leaves out “${listed}”${rest}.`;
}

/** Why Generate is off because of the prompt, or null. */
export function promptProblem(prompt: string, hasRegionPrompts: boolean): string | null {
  if (hasRegionPrompts || prompt.trim() !== '') return null;
  return prompt === ''
    ? 'Type a prompt (or give a region a prompt) to generate.'
    : 'The prompt is only spaces: type some words to generate.';
}
