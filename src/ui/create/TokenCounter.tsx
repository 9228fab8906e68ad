/** "N / 77" under the Prompt, from the model's own tokenizer, with the words left out named. */

import { useEffect, useState } from 'preact/hooks';
import type { TokenCount } from '../../engine/api';
import { getEngine } from '../app/engine';
import { leftOutSentence, tokenLine } from './token-text';

export function TokenCounter({ prompt, packId }: { prompt: string; packId: string | undefined }) {
  const [count, setCount] = useState<TokenCount | null>(null);
  useEffect(() => {
    let live = true;
    // Counted once typing pauses (a few keys apart), by the worker: the page never tokenizes.
    const timer = setTimeout(() => {
      getEngine()
        .call('countTokens', { ...(packId ? { packId } : {}), prompt })
        .then((c) => live && setCount(c))
        .catch(() => live && setCount(null)); // no tokenizer to be had (offline, no pack): no count
    }, 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [prompt, packId]);
  // The box is always there: the Prompt's aria-describedby names it.
  if (!count || prompt === '') return <div class="token-counter" id="token-count" />;
  const leftOut = leftOutSentence(count);
  return (
    <div class="token-counter" id="token-count">
      <span class="token-line">
        {tokenLine(count)}
        <span class="visually-hidden"> tokens</span>
      </span>
      {leftOut && (
        <p class="token-left-out" role="status">
          {leftOut}
        </p>
      )}
    </div>
  );
}
