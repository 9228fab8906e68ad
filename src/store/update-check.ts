/**
 * When to ask a user pack's host whether there is a newer manifest. Each
 * check tells the host that someone is using the pack, so Gesso checks at
 * most once a day and only when online, unless the user asks. Pure.
 */

export const UPDATE_CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000;

export interface UpdateCheckInput {
  /** When the manifest was last fetched (adding the pack, or a check); undefined: never. */
  lastChecked: number | undefined;
  now: number;
  online: boolean;
  /** The user pressed "Check for updates". */
  asked: boolean;
  intervalMs?: number;
}

export type UpdateCheckVerdict =
  { check: true } | { check: false; why: 'offline' | 'recent'; nextAt: number | null };

export function updateCheckDue({
  lastChecked,
  now,
  online,
  asked,
  intervalMs = UPDATE_CHECK_INTERVAL_MS,
}: UpdateCheckInput): UpdateCheckVerdict {
  if (!online) return { check: false, why: 'offline', nextAt: null };
  if (asked || lastChecked === undefined) return { check: true };
  // A clock set back (lastChecked in the future) counts as due rather than never.
  if (now < lastChecked || now - lastChecked >= intervalMs) return { check: true };
  return { check: false, why: 'recent', nextAt: lastChecked + intervalMs };
}
