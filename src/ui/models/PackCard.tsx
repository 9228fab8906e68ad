/** One model pack on the Models screen: size, licence, fit, and download/pause/resume/delete. */

import { safeLinkUrl } from '../../shared/pack-host-policy';
import { useState } from 'preact/hooks';
import { callStore, requestPersistence, startDownload } from '../../store/packs';
import type { Fit } from '../../shared/fit';
import type { PackManifestInput } from '../../store/validate-manifest';
import { checkedText, packStatus, progressText, sizeText, statusText } from './pack-status';
import type { PackEntry } from './usePacks';
import { MakeInt8Copy } from './MakeInt8Copy';
import { importedWeightsText } from './imported-weights';
import { LoraControls } from './LoraControls';

export interface PackCardProps {
  entry: PackEntry;
  fit: Fit | null;
  /** Called once a download has been handed to the service worker. */
  onStarted?: () => void;
  /** Asks this pack's host for a newer manifest now (user packs). */
  onCheck?: () => Promise<void>;
}

/** Starts (or updates) a download: persistence first, then the service worker takes over. */
export async function download(
  manifest: PackManifestInput,
  manifestUrl: string,
  origin: PackEntry['origin'],
  licenseAccepted: boolean,
) {
  await requestPersistence();
  await startDownload({ manifest, manifestUrl, origin, licenseAccepted });
}

export function PackCard({ entry, fit, onStarted, onCheck }: PackCardProps) {
  const { manifest, record, progress, check } = entry;
  const [accepted, setAccepted] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const name = manifest?.name ?? record?.manifest.name ?? 'Demo pack';
  const status = packStatus(record, manifest, entry.failure);
  const licence = manifest?.license;
  const needsAccept = !!licence?.restricted && !record?.licenseAccepted;

  const act = (work: () => Promise<unknown>) => async () => {
    setError(null);
    setBusy(true);
    try {
      await work();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const command = (method: 'pause' | 'resume' | 'cancel' | 'delete') =>
    act(() => callStore(method, { packId: record!.id }));
  const start = act(async () => {
    if (!manifest) return;
    await download(manifest, entry.manifestUrl, entry.origin, accepted || !needsAccept);
    onStarted?.();
  });

  const button = (label: string, onClick: () => void, primary = false, blocked = false) => (
    <button
      type="button"
      class={primary ? 'primary' : undefined}
      aria-label={`${label} ${name}`}
      disabled={busy || blocked}
      onClick={onClick}
    >
      {label}
    </button>
  );

  const running =
    status.kind === 'downloading' ||
    status.kind === 'paused' ||
    status.kind === 'failed' ||
    status.kind === 'waiting';
  const checkable = !!onCheck && record?.origin === 'user' && !!record.installed;
  const imported = record?.installed?.manifest.imported;
  const weights = imported ? importedWeightsText(imported) : null;
  return (
    <article class="pack" aria-label={name} data-status={status.kind}>
      <h2>{name}</h2>
      {manifest ? (
        <p class="pack-description">{manifest.description}</p>
      ) : (
        <p>The pack's manifest can't be loaded right now.</p>
      )}
      <dl class="facts">
        <div>
          <dt>Download size</dt>
          <dd>{manifest ? sizeText(manifest) : 'unknown'}</dd>
        </div>
        {licence && (
          <div>
            <dt>Licence</dt>
            <dd>
              {safeLinkUrl(licence.url) ? (
                <a href={safeLinkUrl(licence.url)!} target="_blank" rel="noreferrer noopener">
                  {licence.name}
                </a>
              ) : (
                licence.name
              )}
              {licence.restricted ? ' (restricted)' : ''}. {licence.summary}
            </dd>
          </div>
        )}
        {weights && (
          <div>
            <dt>Weights</dt>
            <dd class="pack-weights">{weights}</dd>
          </div>
        )}
        <div>
          <dt>This device</dt>
          <dd class={fit?.fits === false ? 'pack-misfit' : undefined}>
            {fit?.reason ?? 'Unknown'}
          </dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd class="pack-status">{statusText(status)}</dd>
        </div>
        {checkable && (
          <div>
            <dt>Updates</dt>
            <dd class="pack-checked">{checkedText(check?.checkedAt ?? record.checkedAt)}</dd>
          </div>
        )}
        {record?.installed && record.installed.unverified.length > 0 && (
          <div>
            <dt>Unverified files</dt>
            <dd>
              {record.installed.unverified.length} file(s) have no published SHA-256; Gesso recorded
              the hash it computed.
            </dd>
          </div>
        )}
      </dl>
      {(status.kind === 'downloading' || status.kind === 'paused') && progress && (
        <div class="pack-progress">
          <progress
            max={progress.bytesTotal || 1}
            value={progress.saving ? progress.bytesTotal : progress.bytesDone}
            aria-label={`${name} download progress`}
          />
          {progress.saving && (
            <>
              <p>Downloaded. Saving to this device:</p>
              <progress
                max={progress.bytesTotal || 1}
                value={progress.bytesDone}
                aria-label={`${name} saving progress`}
              />
            </>
          )}
          <p>{progressText(progress)}</p>
          {status.kind === 'downloading' && progress.note && (
            <p class="pack-note" role="status">
              {progress.note}
            </p>
          )}
        </div>
      )}
      {status.kind === 'failed' && <p role="alert">{status.reason}</p>}
      {status.kind === 'waiting' && <p role="status">{status.reason}</p>}
      {checkable && check?.error && <p role="alert">{check.error}</p>}
      {checkable && check?.checked && !check.error && status.kind === 'ready' && (
        <p role="status">Up to date: version {status.version} is the newest.</p>
      )}
      {error && <p role="alert">{error}</p>}
      {needsAccept && (status.kind === 'none' || status.kind === 'update') && (
        <label class="pack-accept">
          <input
            type="checkbox"
            checked={accepted}
            onChange={(e) => setAccepted(e.currentTarget.checked)}
          />
          I accept the licence terms of {name}
        </label>
      )}
      <div class="pack-actions">
        {status.kind === 'none' &&
          manifest &&
          button(
            'Download',
            () => void start(),
            true,
            (needsAccept && !accepted) || Boolean(fit?.blocksDownload),
          )}
        {status.kind === 'update' &&
          button('Update', () => void start(), true, needsAccept && !accepted)}
        {status.kind === 'downloading' && button('Pause', () => void command('pause')())}
        {(status.kind === 'paused' || status.kind === 'failed' || status.kind === 'waiting') &&
          button(
            status.kind === 'paused' ? 'Resume' : 'Retry',
            () => void command('resume')(),
            true,
          )}
        {running && button('Cancel', () => void command('cancel')())}
        {checkable && (
          <button
            type="button"
            aria-label={`Check ${name} for updates`}
            disabled={busy}
            onClick={() => void act(onCheck)()}
          >
            Check for updates
          </button>
        )}
        {record?.installed && button('Delete', () => void command('delete')())}
      </div>
      <MakeInt8Copy record={record} name={name} />
      <LoraControls record={record} name={name} />
    </article>
  );
}
