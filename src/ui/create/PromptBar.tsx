/**
 * The prompt, its token count, and the one main action: Generate (off while
 * there is nothing to run or a field is invalid, with the reason said next to
 * it), or Cancel while running. A second tap of a double tap on Generate does
 * not cancel (useGeneration ignores it). Enter generates; Shift+Enter adds a
 * line to the prompt; Escape cancels a run.
 */

import type { ComponentChildren } from 'preact';

export function PromptBar({
  prompt,
  busy,
  problem,
  counter,
  onPrompt,
  onGenerate,
  onCancel,
}: {
  prompt: string;
  busy: boolean;
  /** Why Generate is off (nothing to run, a field invalid), or null. */
  problem: string | null;
  /** The token counter. */
  counter?: ComponentChildren;
  onPrompt: (prompt: string) => void;
  onGenerate: () => void;
  onCancel: () => void;
}) {
  const canGenerate = problem === null;
  return (
    <form
      class="prompt-bar"
      onSubmit={(event) => {
        event.preventDefault();
        if (!busy && canGenerate) onGenerate();
      }}
    >
      <label for="prompt" class="visually-hidden">
        Prompt
      </label>
      <textarea
        id="prompt"
        name="prompt"
        rows={2}
        placeholder="Describe an image, e.g. “red heart”"
        value={prompt}
        aria-describedby="token-count"
        onInput={(event) => onPrompt(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            if (!busy && canGenerate) onGenerate();
          } else if (event.key === 'Escape' && busy) {
            onCancel();
          }
        }}
      />
      {busy ? (
        <button type="button" class="main-action" onClick={onCancel}>
          Cancel
        </button>
      ) : (
        <button
          type="submit"
          class="primary main-action"
          disabled={!canGenerate}
          aria-describedby={problem ? 'generate-problem' : undefined}
        >
          Generate
        </button>
      )}
      <div class="prompt-notes">
        {counter}
        {problem && !busy && (
          <p id="generate-problem" class="generate-problem">
            {problem}
          </p>
        )}
      </div>
    </form>
  );
}
