/**
 * On an imported pack's card: "Add a LoRA" (a .safetensors file), "LoRA
 * strength" (default 1) and "Apply LoRA", which makes a variant that
 * rewrites only the weights the LoRA touches; "Remove LoRA" gives the pack
 * back as it was imported. The work runs in an engine worker of its own.
 */

import { useState } from 'preact/hooks';
import { startEngine } from '../../engine';
import { formatBytes } from '../../shared/format';
import type { PackRecord } from '../../store/records';

const BASE_VARIANT = 'fp16';
const LORA_VARIANT = 'fp16-lora';

function templateBase(): string {
  const base = new URL(import.meta.env.BASE_URL, location.href);
  return new URL(localStorage.getItem('gesso.importTemplates') ?? 'templates/', base).href;
}

export function LoraControls({ record, name }: { record: PackRecord | null; name: string }) {
  const [file, setFile] = useState<File | null>(null);
  const [strength, setStrength] = useState(1);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ text: string; alert: boolean } | null>(null);
  const installed = record?.installed;
  if (!record || !installed?.manifest.imported) return null;
  const lora = installed.manifest.variants.find((v) => v.id === LORA_VARIANT);
  if (!installed.manifest.variants.some((v) => v.id === BASE_VARIANT))
    return (
      <p class="pack-lora">
        LoRAs are fused into a pack's fp16 weights, and this one keeps only int8 weights. To add a
        LoRA, import the model file again on a device that runs it in fp16.
      </p>
    );

  const run = async (work: (call: ReturnType<typeof startEngine>['client']) => Promise<string>) => {
    setBusy(true);
    setNote(null);
    const engine = startEngine();
    try {
      setNote({ text: await work(engine.client), alert: false });
    } catch (error) {
      setNote({ text: error instanceof Error ? error.message : String(error), alert: true });
    } finally {
      engine.terminate();
      setBusy(false);
    }
  };

  return (
    <div class="pack-lora">
      <label>
        Add a LoRA
        <input
          type="file"
          accept=".safetensors"
          disabled={busy}
          onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
        />
      </label>
      <label>
        LoRA strength
        <input
          type="range"
          min={0}
          max={2}
          step={0.05}
          value={strength}
          disabled={busy}
          onInput={(e) => setStrength(Number((e.currentTarget as HTMLInputElement).value))}
        />
      </label>
      <output aria-live="off">{strength.toFixed(2)}</output>
      <button
        type="button"
        disabled={!file || busy}
        onClick={() =>
          void run(async (client) => {
            const r = await client.call('applyLora', {
              packId: record.id,
              file: file!,
              strength,
              templateBase: templateBase(),
            });
            return `${name} now uses ${r.tag} (${r.weights} weights rewritten, ${formatBytes(r.bytesAdded)} added).`;
          })
        }
      >
        Apply LoRA
      </button>
      {lora && (
        <>
          <p class="pack-lora-current">In use: {lora.label.slice(lora.label.indexOf('<'))}</p>
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void run(async (client) => {
                const r = await client.call('removeLora', { packId: record.id });
                return `The LoRA was removed (${formatBytes(r.bytesFreed)} freed); ${name} is as imported.`;
              })
            }
          >
            Remove LoRA
          </button>
        </>
      )}
      {busy && <p role="status">Working…</p>}
      {note && <p role={note.alert ? 'alert' : 'status'}>{note.text}</p>}
    </div>
  );
}
