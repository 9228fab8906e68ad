/**
 * The prompt (and the negative prompt, for packs that use one) and the one
 * main action: Generate (off while there is nothing to run or a field is
 * invalid), or Cancel while running. Enter generates; Shift+Enter
 * adds a line to the prompt; Escape cancels a run.
 */
export function PromptBar({
  prompt,
  negativePrompt,
  busy,
  canGenerate,
  generateProblem,
  onPrompt,
  onNegativePrompt,
  onGenerate,
  onCancel,
}: {
  prompt: string;
  /** null: the pack has no use for one, so the field is not shown. */
  negativePrompt: string | null;
  busy: boolean;
  /** False while there is nothing to run (no prompt and no region with one) or a field is invalid. */
  canGenerate: boolean;
  /** The ids of the sentences saying why Generate is off (invalid fields), if any. */
  generateProblem?: string | undefined;
  onPrompt: (prompt: string) => void;
  onNegativePrompt: (negativePrompt: string) => void;
  onGenerate: () => void;
  onCancel: () => void;
}) {
  return (
    <form
      class={negativePrompt === null ? 'prompt-bar' : 'prompt-bar with-negative'}
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
      {negativePrompt !== null && (
        <>
          <label for="negative-prompt" class="visually-hidden">
            Negative prompt
          </label>
          <input
            id="negative-prompt"
            name="negative-prompt"
            class="negative-prompt"
            type="text"
            placeholder="Negative prompt"
            value={negativePrompt}
            onInput={(event) => onNegativePrompt(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape' && busy) onCancel();
            }}
          />
        </>
      )}
      {busy ? (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      ) : (
        <button
          type="submit"
          class="primary"
          disabled={!canGenerate}
          aria-describedby={generateProblem}
        >
          Generate
        </button>
      )}
    </form>
  );
}
