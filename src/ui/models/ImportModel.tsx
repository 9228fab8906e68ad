/**
 * "Import a model file" on the Models screen: a .safetensors checkpoint
 * (picked or dropped) and an optional LCM-LoRA (picked, or "Download
 * LCM-LoRA" once, kept in Cache Storage), made into a pack by the engine
 * in a worker of its own, with progress, time left and Cancel. The
 * templates and the LCM-LoRA come from configurable URLs (localStorage
 * `gesso.importTemplates`, `gesso.lcmLoraUrl`).
 */

import { useRef, useState } from 'preact/hooks';
import {
  startEngine,
  type ConversionProgress,
  type ImportModelResult,
  type InspectModelResult,
} from '../../engine';
import { formatBytes, formatDuration } from '../../shared/format';
import { importStageText, importedWeightsText } from './imported-weights';
import {
  PREDICTION_CHOICES,
  importQuestions,
  predictionToSend,
  type Prediction,
} from './import-questions';

export const LCM_LORA_URL =
  'https://huggingface.co/latent-consistency/lcm-lora-sdv1-5/resolve/main/pytorch_lora_weights.safetensors';
const KEPT = 'gesso-import-lcm-lora-v1';

const appBase = () => new URL(import.meta.env.BASE_URL, location.href);

function templateBase(): string {
  return new URL(localStorage.getItem('gesso.importTemplates') ?? 'templates/', appBase()).href;
}

function lcmLoraUrl(): string {
  return new URL(localStorage.getItem('gesso.lcmLoraUrl') ?? LCM_LORA_URL, appBase()).href;
}

/** The LCM-LoRA kept from an earlier download, or fetched now and kept. */
async function keptLcmLora(download: boolean): Promise<File | null> {
  const url = lcmLoraUrl();
  const cache = await caches.open(KEPT);
  let response = await cache.match(url);
  if (!response && download) {
    const fetched = await fetch(url, { credentials: 'omit' });
    if (!fetched.ok)
      throw new Error(`The LCM-LoRA could not be downloaded (HTTP ${fetched.status}).`);
    await cache.put(url, fetched);
    response = await cache.match(url);
  }
  return response ? new File([await response.blob()], 'lcm-lora-sdv1-5.safetensors') : null;
}

type State =
  | { kind: 'idle' }
  | { kind: 'running'; progress: ConversionProgress | null; cancel: () => void }
  | { kind: 'done'; result: ImportModelResult }
  | { kind: 'failed'; message: string };

function progressText(p: ConversionProgress | null): string {
  if (!p) return 'Starting…';
  const parts = [
    `${importStageText(p.stage)}${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} read`,
  ];
  if (p.secondsLeft !== null) parts.push(`${formatDuration(p.secondsLeft)} left`);
  return parts.join(' · ');
}

/** The picked file's header as the engine reads it (in a worker of its own, ended after). */
async function inspect(file: File): Promise<InspectModelResult> {
  const engine = startEngine();
  try {
    return await engine.client.call('inspectModel', { file });
  } finally {
    engine.terminate();
  }
}

export function ImportModel() {
  const [file, setPicked] = useState<File | null>(null);
  const [inspected, setInspected] = useState<InspectModelResult | null>(null);
  const [chosen, setChosen] = useState<Prediction | null>(null);
  const [lora, setLora] = useState<File | null>(null);
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [loraNote, setLoraNote] = useState<string | null>(null);
  const running = state.kind === 'running';
  const questions = importQuestions(inspected);
  const prediction = predictionToSend(inspected, chosen);

  const latest = useRef<File | null>(null);

  const setFile = (picked: File | null) => {
    latest.current = picked;
    setPicked(picked);
    setInspected(null);
    setChosen(null);
    setState({ kind: 'idle' });
    if (!picked) return;
    inspect(picked).then(
      (result) => {
        if (latest.current === picked) setInspected(result);
      },
      (error: unknown) => {
        if (latest.current === picked)
          setState({
            kind: 'failed',
            message: error instanceof Error ? error.message : String(error),
          });
      },
    );
  };

  const start = () => {
    if (!file || !inspected || prediction === null) return;
    const controller = new AbortController();
    const engine = startEngine();
    const update = (progress: ConversionProgress | null) =>
      setState({ kind: 'running', progress, cancel: () => controller.abort() });
    update(null);
    void engine.client
      .call(
        'importModel',
        {
          file,
          ...(lora && questions.offerLcmLora ? { lcmLora: lora } : {}),
          ...(prediction ? { prediction } : {}),
          templateBase: templateBase(),
        },
        { signal: controller.signal, onProgress: update },
      )
      .then(
        (result) => setState({ kind: 'done', result }),
        (error: unknown) =>
          setState({
            kind: 'failed',
            message: controller.signal.aborted
              ? 'Cancelled. Nothing was kept.'
              : error instanceof Error
                ? error.message
                : String(error),
          }),
      )
      .finally(() => engine.terminate());
  };

  const download = async () => {
    setLoraNote('Downloading the LCM-LoRA…');
    try {
      const kept = await keptLcmLora(true);
      setLora(kept);
      setLoraNote(kept ? `LCM-LoRA kept on this device (${formatBytes(kept.size)}).` : null);
    } catch (error) {
      setLoraNote(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <section class="import-model" aria-labelledby="import-title">
      <h2 id="import-title">Import your own model</h2>
      <p>
        A Stable Diffusion 1.5 or 2.x checkpoint (.safetensors) becomes a pack on this device, read
        piece by piece. With an LCM-LoRA it makes images in 4 steps.
      </p>
      <div
        class="import-drop"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault();
          const dropped = e.dataTransfer?.files[0];
          if (dropped) setFile(dropped);
        }}
      >
        <label>
          Import a model file
          <input
            type="file"
            accept=".safetensors"
            disabled={running}
            onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
          />
        </label>
        <p class="import-hint">{file ? `Picked: ${file.name}` : 'Or drop the file here.'}</p>
      </div>
      {questions.askPrediction && (
        <fieldset class="import-prediction">
          <legend>Prediction type</legend>
          <p class="import-hint">
            This SD 2.x file does not say what its model predicts. Its download page usually does:
            "base" models (512 pixels) predict epsilon, "768" models predict v.
          </p>
          {PREDICTION_CHOICES.map((choice) => (
            <label key={choice.value}>
              <input
                type="radio"
                name="import-prediction"
                value={choice.value}
                checked={chosen === choice.value}
                disabled={running}
                onChange={() => setChosen(choice.value)}
              />
              {choice.label}
            </label>
          ))}
        </fieldset>
      )}
      {questions.lcmNote && <p class="import-hint">{questions.lcmNote}</p>}
      <label>
        LCM-LoRA file
        <input
          type="file"
          accept=".safetensors"
          disabled={running || !questions.offerLcmLora}
          onChange={(e) => setLora((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
        />
      </label>
      <button
        type="button"
        disabled={running || !questions.offerLcmLora}
        onClick={() => void download()}
      >
        Download LCM-LoRA
      </button>
      {loraNote && <p class="import-hint">{loraNote}</p>}
      <button
        type="button"
        disabled={!file || !inspected || prediction === null || running}
        onClick={start}
      >
        Import
      </button>
      {state.kind === 'running' && (
        <div class="import-progress">
          <progress
            aria-label="Import progress"
            max={state.progress?.bytesTotal ?? 1}
            value={state.progress?.bytesDone ?? 0}
          />
          <span>{progressText(state.progress)}</span>
          <button type="button" onClick={state.cancel}>
            Cancel
          </button>
        </div>
      )}
      {state.kind === 'done' && (
        <p role="status">
          Imported "{state.result.name}" ({formatBytes(state.result.bytes)}
          {state.result.weights === 'int8'
            ? `; ${importedWeightsText({ weights: 'int8', int8Reason: state.result.int8Reason })}`
            : ''}
          {state.result.ignored ? `; ${state.result.ignored} unused keys ignored` : ''}).
        </p>
      )}
      {state.kind === 'failed' && <p role="alert">{state.message}</p>}
    </section>
  );
}
