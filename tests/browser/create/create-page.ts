/** The Create screen of the production build on a phone-sized page, with the built-in demo pack. */

import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { launchBrowser, PHONE } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';

export const DIST = process.env.GESSO_DIST ?? 'dist';

export interface CreateSetup {
  server: StaticServer;
  browser: Browser;
  close(): Promise<void>;
}

export async function startCreate(): Promise<CreateSetup> {
  const server = await startStaticServer(DIST);
  const browser = await launchBrowser();
  return {
    server,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * A fresh page on Create. Service workers are blocked: no first-visit reload
 * in the middle of a test (the app runs on one wasm thread without isolation).
 */
export async function openCreate<Arg>(
  setup: CreateSetup,
  options: BrowserContextOptions = {},
  /** Runs in every document before the app (e.g. a stub of navigator.share). */
  init?: { script: (arg: Arg) => void; arg: Arg },
): Promise<Page> {
  const context = await setup.browser.newContext({ ...PHONE, serviceWorkers: 'block', ...options });
  if (init) await context.addInitScript(init.script as (arg: unknown) => void, init.arg);
  const page = await context.newPage();
  await page.goto(`${setup.server.url}/#/create`);
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).waitFor();
  return page;
}
