/**
 * Security headers from the service worker: a static host that cannot set
 * COOP/COEP still gets an isolated app (needed for wasm threads), and every
 * page and worker script gets Gesso's Content-Security-Policy, because every
 * same-origin response the worker hands out carries the headers (all but
 * onnxruntime's stored wasm, which needs none; see sw.ts).
 */

import { CONTENT_SECURITY_POLICY } from '../src/shared/csp';

export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
};

export function withIsolationHeaders(response: Response): Response {
  // Opaque and error responses cannot be rewritten; redirects must stay as they are.
  if (response.status === 0 || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

/** A Workbox plugin applying the headers to whatever a strategy responds with. */
export const isolationPlugin = {
  handlerWillRespond: async ({ response }: { response: Response }) =>
    withIsolationHeaders(response),
};
