/**
 * The Content-Security-Policy: in index.html for the first visit, sent by the
 * service worker with every page afterwards, and the app runs under it with
 * zero violations (generate, gallery, models, settings). Then what it is for:
 * inline script, eval and a plain-http host are refused. And once installed,
 * generating sends nothing anywhere.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../../../src/shared/csp';
import { launchPersistent, waitForIsolatedControl } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';

let server: StaticServer;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;
const violations: string[] = [];

beforeAll(async () => {
  server = await startStaticServer('dist');
  ({ context, close } = await launchPersistent());
  // Every violation the page reports, from the start of every document.
  await context.exposeFunction('reportViolation', (text: string) => violations.push(text));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (globalThis as unknown as { reportViolation: (t: string) => void })
        .reportViolation;
      report(
        `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`,
      );
    });
  });
  page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.goto(server.url);
  await waitForIsolatedControl(page);
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

describe('Content-Security-Policy', () => {
  it('is in the first page the host serves, and on every page the service worker serves', async () => {
    const html = (await (await fetch(server.url)).text()).replaceAll('&#39;', "'");
    expect(html).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="[^"]*script-src 'self' 'wasm-unsafe-eval'/,
    );
    const response = await page.reload();
    expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  });

  it('lets the whole app run with zero violations', async () => {
    await page.getByLabel('Prompt', { exact: true }).fill('red heart');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page
      .getByRole('img', { name: 'Generated image: red heart', exact: true })
      .waitFor({ timeout: 90_000 });
    for (const [hash, heading] of [
      ['gallery', 'Gallery'],
      ['models', 'Models'],
      ['settings', 'Settings'],
    ] as const) {
      await page.goto(`${server.url}/#/${hash}`);
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    }
    await page.goto(`${server.url}/#/gallery`);
    await page.locator('.gallery img').first().waitFor({ timeout: 15_000 });
    expect(violations).toEqual([]);
  });

  it('sends nothing off the device while generating, once installed', async () => {
    await page.goto(`${server.url}/#/create`);
    await page.getByLabel('Prompt', { exact: true }).waitFor();
    await page.waitForTimeout(1000); // let opening settle (the service worker's update check)
    const before = server.requests.length;
    const leaving: string[] = [];
    const onRequest = (request: { url(): string }) => {
      const url = new URL(request.url());
      if (url.protocol === 'http:' || url.protocol === 'https:') leaving.push(url.pathname);
    };
    context.on('request', onRequest);
    await page.getByLabel('Prompt', { exact: true }).fill('blue circle');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page
      .getByRole('img', { name: 'Generated image: blue circle', exact: true })
      .waitFor({ timeout: 90_000 });
    context.off('request', onRequest);
    const reachedHost = server.requests.slice(before).map((r) => r.path);
    // Requests the page makes are answered by the service worker (from its caches);
    // none may reach the host, except the worker's own update check.
    expect(reachedHost.filter((path) => path !== '/sw.js')).toEqual([]);
    expect(leaving.filter((path) => !path.startsWith('/assets/') && path !== '/sw.js')).toEqual([]);
  });

  it('refuses inline script, eval and a plain-http host', async () => {
    // DevTools' own evaluation is exempt from the policy, so eval and fetch are
    // tried by a probe worker script from the app's origin: the service worker
    // serves it with the policy like any script. Inline script is tried on the page.
    server.intercept = (req, res) => {
      if (req.url !== '/csp-probe.js') return false;
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(`(async () => {
        let evalRan = false;
        try { evalRan = new Function('return true')(); } catch { evalRan = false; }
        let fetched = false;
        try { await fetch('http://example.invalid/x'); fetched = true; } catch { fetched = false; }
        postMessage({ eval: evalRan, fetched });
      })();`);
      return true;
    };
    const before = violations.length;
    const outcome = await page.evaluate(async () => {
      const script = document.createElement('script');
      script.textContent = 'globalThis.inlineRan = true';
      document.body.append(script);
      const worker = new Worker('/csp-probe.js');
      const probe = await new Promise<{ eval: boolean; fetched: boolean }>((resolve) => {
        worker.onmessage = (event) => resolve(event.data as { eval: boolean; fetched: boolean });
      });
      worker.terminate();
      return { inline: Boolean((globalThis as { inlineRan?: boolean }).inlineRan), ...probe };
    });
    server.intercept = null;
    expect(outcome).toEqual({ inline: false, eval: false, fetched: false });
    // The inline script was reported as a violation, which is how the zero count above can fail.
    await expect.poll(() => violations.length - before).toBeGreaterThanOrEqual(1);
  });
});
