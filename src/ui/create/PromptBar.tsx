/** The prompt and the one main action: Generate, or Cancel while running. Enter generates; Shift+Enter adds a line. */
export function PromptBar({
  prompt,
  busy,
  onPrompt,
  onGenerate,
  onCancel,
}: {
  prompt: string;
  busy: boolean;
  onPrompt: (prompt: string) => void;
  onGenerate: () => void;
  onCancel: () => void;
}) {
  return (
    <form
      class="prompt-bar"
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
