/**
 * Where packs may come from, one rule for the page and the service worker:
 * https anywhere; plain http only from this device's own loopback (a local
 * pack host while developing, `npm start`), since anything else over plain
 * http could be changed on its way and the page's security policy does not
 * cover what the service worker fetches. Links taken from a manifest (a
 * licence) must be http(s), never `javascript:` or `data:`.
 */

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function parse(url: string, base?: string): URL | null {
  try {
    return new URL(url, base);
  } catch {
    return null;
  }
}

/** Why a pack's manifest or file address is refused, as a sentence; null where it is allowed. */
export function packAddressFault(url: string, base?: string): string | null {
  const parsed = parse(url, base);
  if (!parsed) return 'That is not a web address.';
  if (parsed.protocol === 'https:') return null;
  if (parsed.protocol === 'http:')
    return LOOPBACK.has(parsed.hostname)
      ? null
      : `Packs must come from an https:// address: ${parsed.host} uses plain http://, which anyone on the way could change. (http:// is accepted only from this device itself, localhost.)`;
  return 'A pack address must start with https:// (or http://localhost for a pack on this device).';
}

/** `url` where it is safe to show as a link (http or https), else null. */
export function safeLinkUrl(url: string | undefined): string | null {
  if (!url) return null;
  const parsed = parse(url);
  return parsed && (parsed.protocol === 'https:' || parsed.protocol === 'http:')
    ? parsed.href
    : null;
}
