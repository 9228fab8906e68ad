/**
 * Gesso's Content-Security-Policy: scripts only from the app (plus
 * 'wasm-unsafe-eval', which onnxruntime needs to compile WebAssembly), no
 * inline script, no plugins, no framing, images from the app and blob:
 * (results and thumbnails), and connections only to the app and to https:
 * pack hosts (loopback http too, for a pack served from the same machine).
 * The service worker sends it with every response (sw/isolation.ts); the
 * build writes it into index.html for the first visit, before the worker runs.
 */

const DIRECTIVES: [string, string][] = [
  ['default-src', "'self'"],
  ['script-src', "'self' 'wasm-unsafe-eval'"],
  ['worker-src', "'self' blob:"],
  ['style-src', "'self'"],
  ['img-src', "'self' blob: data:"],
  ['font-src', "'self'"],
  ['manifest-src', "'self'"],
  ['connect-src', "'self' https: http://localhost:* http://127.0.0.1:*"],
  ['object-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"],
];

/** Directives a <meta> policy may carry (browsers ignore frame-ancestors there, with a warning). */
const HEADER_ONLY = new Set(['frame-ancestors']);

function serialise(entries: [string, string][]): string {
  return entries.map(([name, value]) => `${name} ${value}`).join('; ');
}

/** As an HTTP header. */
export const CONTENT_SECURITY_POLICY = serialise(DIRECTIVES);

/** As a <meta http-equiv> for the first visit. */
export const META_CONTENT_SECURITY_POLICY = serialise(
  DIRECTIVES.filter(([name]) => !HEADER_ONLY.has(name)),
);
