/**
 * "Settings": a button with a one-line summary that opens a bottom sheet (a
 * modal dialog) with Model, Guidance, Steps, Seed, Fixed seed, Decoder and
 * the negative prompt where the model uses one.
 */

import { useEffect, useRef, useState } from 'preact/hooks';
import type { DecoderChoice } from '../../shared/recipe';
import type { ModelOption } from './model-choice';
import { NumberField } from './NumberField';
import { SEED_RANGE, type NumberFieldName, type RunSettings } from './number-fields';
import type { PackControls } from './pack-controls';
import type { FieldDrafts } from './number-fields';

export interface SettingsSheetProps {
  summary: string;
  options: ModelOption[];
  choice: string;
  onChoose: (choice: string) => void;
  pack: PackControls;
  settings: RunSettings;
  drafts: FieldDrafts;
  /** Shown values (what runs when no draft is typed). */
  shown: { steps: number; seed: number; guidance: number };
  onText: (field: NumberFieldName, text: string) => void;
  onFixedSeed: (fixedSeed: boolean) => void;
  /** null: the model has one decoder, so there is no choice. */
  decoder: DecoderChoice | null;
  onDecoder: (decoder: DecoderChoice) => void;
  /** null: the model has no use for one. */
  negativePrompt: string | null;
  onNegativePrompt: (text: string) => void;
}

export function SettingsSheet(props: SettingsSheetProps) {
  const { pack, settings, drafts, shown } = props;
  const [open, setOpen] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const sheet = dialog.current;
    if (!sheet) return;
    if (open && !sheet.open) sheet.showModal();
    if (!open && sheet.open) sheet.close();
  }, [open]);
  const seedError = settings.fixedSeed ? settings.seed.error : null;
  return (
    <>
      <div class="settings-line">
        <button
          ref={opener}
          type="button"
          class="settings-button"
          aria-describedby="settings-summary"
          aria-haspopup="dialog"
          onClick={() => setOpen(true)}
        >
          Settings
        </button>
        <span id="settings-summary" class="settings-summary">
          {props.summary}
        </span>
      </div>
      <dialog
        ref={dialog}
        class="sheet"
        aria-labelledby="settings-title"
        onClose={() => {
          setOpen(false);
          opener.current?.focus();
        }}
        onClick={(event) => {
          // A tap on the backdrop (outside the sheet's box) closes it.
          if (event.target === dialog.current) setOpen(false);
        }}
      >
        <div class="sheet-body">
          <div class="sheet-head">
            <h2 id="settings-title">Settings</h2>
            <button type="button" onClick={() => setOpen(false)}>
              Done
            </button>
          </div>
          <div class="field">
            <label for="model">Model</label>
            <select
              id="model"
              value={props.choice}
              onChange={(event) => props.onChoose(event.currentTarget.value)}
            >
              {props.options.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </div>
          <p class="sheet-note">
            Real models (SD-Turbo, LCM) are on the Models screen, with their download sizes.
          </p>
          <div class="sheet-grid">
            <NumberField
              id="steps"
              label="Steps"
              value={shown.steps}
              draft={drafts.steps}
              error={settings.steps.error}
              range={pack.ranges.steps}
              step={1}
              onText={(text) => props.onText('steps', text)}
            />
            {pack.guidance !== 'none' && (
              <NumberField
                id="guidance"
                label="Guidance"
                value={shown.guidance}
                draft={drafts.guidance}
                error={settings.guidance.error}
                range={pack.ranges.guidance}
                step={0.5}
                decimal
                onText={(text) => props.onText('guidance', text)}
              />
            )}
            <NumberField
              id="seed"
              label="Seed"
              value={shown.seed}
              draft={drafts.seed}
              error={seedError}
              range={SEED_RANGE}
              step={1}
              onText={(text) => props.onText('seed', text)}
            />
            <label class="check">
              <input
                type="checkbox"
                checked={settings.fixedSeed}
                onChange={(event) => props.onFixedSeed(event.currentTarget.checked)}
              />
              Fixed seed
            </label>
          </div>
          {props.decoder !== null && (
            <div class="field">
              <label for="decoder">Decoder</label>
              <select
                id="decoder"
                value={props.decoder}
                aria-describedby="decoder-hint"
                onChange={(event) => props.onDecoder(event.currentTarget.value as DecoderChoice)}
              >
                <option value="full">Full</option>
                <option value="fast">Fast</option>
              </select>
              <span id="decoder-hint" class="sheet-note">
                Fast makes the final image with the small preview decoder: much quicker on a
                processor, a little less fine detail.
              </span>
            </div>
          )}
          {props.negativePrompt !== null && (
            <div class="field">
              <label for="negative-prompt">Negative prompt</label>
              <input
                id="negative-prompt"
                type="text"
                value={props.negativePrompt}
                onInput={(event) => props.onNegativePrompt(event.currentTarget.value)}
              />
            </div>
          )}
        </div>
      </dialog>
    </>
  );
}
