/** Storage used and available on this device, and whether the browser may evict it. */

import { useEffect, useState } from 'preact/hooks';
import { storageSummary, type StorageSummary as Summary } from '../../store/packs';
import { formatBytes } from '../../shared/format';

/** Storage used and available on this device, and whether the browser may evict it. */
export function StorageSummary({ refresh }: { refresh: unknown }) {
  const [summary, setSummary] = useState<Summary | null>(null);
  useEffect(() => {
    let live = true;
    void storageSummary().then((s) => live && setSummary(s));
    return () => {
      live = false;
    };
  }, [refresh]);
  if (!summary) return null;
  const free =
    summary.quotaBytes !== null && summary.usageBytes !== null
      ? summary.quotaBytes - summary.usageBytes
      : null;
  return (
    <section class="storage" aria-labelledby="storage-title">
      <h2 id="storage-title">Storage on this device</h2>
      <dl class="facts">
        <div>
          <dt>Used by Gesso</dt>
          <dd>{summary.usageBytes === null ? 'unknown' : formatBytes(summary.usageBytes)}</dd>
        </div>
        {summary.parts.map((part) => (
          <div key={part.label}>
            <dt>{part.label}</dt>
            <dd>{formatBytes(part.bytes)}</dd>
          </div>
        ))}
        <div>
          <dt>Available</dt>
          <dd>{free === null ? 'unknown' : formatBytes(free)}</dd>
        </div>
        <div>
          <dt>Persistent</dt>
          <dd>
            {summary.persisted === null
              ? 'unknown'
              : summary.persisted
                ? 'yes: the browser will not clear it to free space'
                : 'no: the browser may clear packs when the device is short of space'}
          </dd>
        </div>
      </dl>
    </section>
  );
}
