/**
 * The demo pack's automatic install on the first visit, the storage summary,
 * and the offline case, in their own browser profile: with the host gone and
 * the browser offline, a reload still lists the ready packs (the demo pack
 * included) from IndexedDB. Quota errors: idb.test.ts (see there why).
 */

import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';
import {
  addAndDownload,
  expectStoredIntact,
  openModels,
  readStored,
  waitForIsolatedControl,
  waitForStatus,
} from './models-page';
import { PackHost } from './pack-host';

let server: StaticServer;
let host: PackHost;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

const demo = JSON.parse(readFileSync('dist/packs/demo/manifest.json', 'utf8')) as {
  id: string;
  name: string;
};

beforeAll(async () => {
  server = await startStaticServer('dist');
  host = new PackHost(server);
  ({ context, close } = await launchPersistent());
  page = await openModels(context, server.url);
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

describe('first visit, storage summary, offline', () => {
  it('installs the demo pack on the first visit, through the store', async () => {
    await waitForStatus(page, demo, 'Ready');
    const stored = await readStored(page, demo.id);
    expect(stored?.installedVersion).not.toBeNull();
    expect(Object.values(stored!.files).length).toBeGreaterThan(0);
    expect(Object.values(stored!.files).every((f) => f.done && f.chunks > 0)).toBe(true);
    const demoFiles = server.requests.filter(
      (r) => r.path.startsWith('/packs/demo/') && r.path !== '/packs/demo/manifest.json',
    );
    expect(demoFiles.length).toBeGreaterThan(0);
  });

  it('shows storage used, available and persistence', async () => {
    const keep = host.add('keep', [60_000, 20_000]);
    await addAndDownload(page, keep);
    await waitForStatus(page, keep, 'Ready');
    const storage = page.getByRole('region', { name: 'Storage on this device' });
    await page.reload();
    await expect.poll(() => storage.textContent()).toMatch(/Model packs\d/);
    expect(await storage.textContent()).not.toMatch(/Model packs0 B/);
    expect(await storage.textContent()).toMatch(/Available\d+(\.\d+)? (MB|GB|TB)/);
    expect(await storage.textContent()).toMatch(/Persistent(yes|no)/);
  });

  it('with the host gone and the browser offline, a reload lists the ready packs from IndexedDB', async () => {
    await server.close();
    await context.setOffline(true);
    await page.reload();
    await waitForIsolatedControl(page);
    const keep = host.packs.get('keep')!;
    await waitForStatus(page, keep, 'Ready');
    await waitForStatus(page, demo, 'Ready');
    await expectStoredIntact(page, keep);
  });
});
