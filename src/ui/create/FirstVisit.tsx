/** Shown on an empty canvas: example prompts as chips (a tap fills the Prompt) and where the real models are. */

import { catalog } from '../../store/catalog';
import { EXAMPLE_PROMPTS, modelsLine } from './first-visit';

const BASE = new URL(import.meta.env.BASE_URL, location.href).href;
const MODELS_LINE = modelsLine(
  catalog(BASE)
    .map((entry) => entry.manifest)
    .filter((m): m is NonNullable<typeof m> => m !== null),
);

export function FirstVisit({ onExample }: { onExample: (prompt: string) => void }) {
  return (
    <div class="first-visit">
      <p class="first-visit-line">Try one the demo model draws well:</p>
      <div class="examples" role="group" aria-label="Examples to try">
        {EXAMPLE_PROMPTS.map((example) => (
          <button key={example} type="button" class="chip" onClick={() => onExample(example)}>
            {example}
          </button>
        ))}
      </div>
      <p class="first-visit-line">
        {MODELS_LINE} <a href="#/models">Open Models</a>
      </p>
    </div>
  );
}
