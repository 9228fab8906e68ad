/**
 * The prompt (and the negative prompt, for packs that use one) and the one
 * main action: Generate, or Cancel while running. Enter generates; Shift+Enter
 * adds a line to the prompt; Escape cancels a run.
 */
export function PromptBar({
  prompt,
  negativePrompt,
  busy,
  onPrompt,
  onNegativePrompt,
  onGenerate,
  onCancel,
}: {
  prompt: string;
  /** null: the pack has no use for one, so the field is not shown. */
  negativePrompt: string | null;
  busy: boolean;
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
        if (!busy) onGenerate();
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
            if (!busy) onGenerate();
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
        <button type="submit" class="primary" disabled={prompt.trim() === ''}>
          Generate
        </button>
      )}
    </form>
  );
}
