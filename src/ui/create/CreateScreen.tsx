import { useState } from 'preact/hooks';

export function CreateScreen() {
  const [prompt, setPrompt] = useState('');
  return (
    <section class="screen create" aria-labelledby="screen-title">
      <h1 id="screen-title" class="visually-hidden">
        Create
      </h1>
      <div class="canvas-area" aria-hidden="true" />
      <form class="prompt-bar" onSubmit={(event) => event.preventDefault()}>
        <label for="prompt" class="visually-hidden">
          Prompt
        </label>
        <textarea
          id="prompt"
          name="prompt"
          rows={2}
          placeholder="Describe an image, e.g. “red heart”"
          value={prompt}
          onInput={(event) => setPrompt(event.currentTarget.value)}
        />
        <button type="submit" class="primary">
          Generate
        </button>
      </form>
    </section>
  );
}
