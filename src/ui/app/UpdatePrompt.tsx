/** "A new version of Gesso is ready" with "Update now": a new deployment waits until the user says so. */

import { useEffect, useState } from 'preact/hooks';
import { applyUpdate, onUpdateWaiting, registerServiceWorker } from './service-worker';

export function UpdatePrompt() {
  const [waiting, setWaiting] = useState(false);
  useEffect(() => {
    registerServiceWorker();
    return onUpdateWaiting(setWaiting);
  }, []);
  if (!waiting) return null;
  return (
    <div class="update" role="status">
      <span>A new version of Gesso is ready.</span>
      <button type="button" onClick={applyUpdate}>
        Update now
      </button>
    </div>
  );
}
