/**
 * What a hostile or unlucky pack host cannot do on the Models screen: a
 * manifest larger than the device's free storage is refused before Download
 * is pressed; Download pressed offline says so at once and carries on when
 * the connection is back; packs come from https (plain http only from this
 * device), whatever the page or the service worker is asked; a manifest's
 * licence link is never a `javascript:` link.
 */

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPersistent } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';
import {
  addPack,
  card,
  command,
  LOOP_CONFIG,
  openModels,
  untilStatus,
  waitForStatus,
} from './models-page';
import { PackHost } from './pack-host';

let server: StaticServer;
let host: PackHost;
let context: BrowserContext;
let close: () => Promise<void>;
let page: Page;

beforeAll(async () => {
  server = await startStaticServer('dist');
  host = new PackHost(server);
  ({ context, close } = await launchPersistent());
  page = await openModels(context, server.url);
  await untilStatus(page, { name: 'Gesso demo: emoji' }, 'Ready');
});

afterAll(async () => {
  await close?.();
  await server?.close();
});

describe('a hostile pack host', () => {
  it('a pack larger than the free storage is refused before Download is pressed', async () => {
    const pack = host.add('petabyte', [10_000]);
    pack.manifest.files[0]!.size = 1e15;
    await addPack(page, pack);
    // Not yet on the list: the card the Add form shows.
    const found = page.locator('.add-pack').getByRole('article', { name: pack.name, exact: true });
    await expect
      .poll(() => found.locator('.pack-misfit').textContent(), { timeout: 10_000 })
      .toMatch(/^Won't fit: it needs 1000 TB of storage and this browser may keep only .* more\./);
    expect(await page.getByRole('button', { name: `Download ${pack.name}` }).isDisabled()).toBe(
      true,
    );
  });

  it('Download pressed offline says so at once, then carries on by itself online', async () => {
    expect(await command(page, LOOP_CONFIG)).toMatchObject({ ok: true });
    const pack = host.add('offline-start', [30_000]);
    await addPack(page, pack);
    await context.setOffline(true);
    try {
      await page.getByRole('button', { name: `Download ${pack.name}` }).click();
      await waitForStatus(page, pack, 'Waiting for the connection', 5_000);
      expect(await card(page, pack).getByRole('status').last().textContent()).toMatch(
        /^You're offline, so .* can't download now\. It carries on by itself when you're back online\./,
      );
      expect(host.sentFor('offline-start', 'f0.onnx')).toHaveLength(0);
    } finally {
      await context.setOffline(false);
    }
    await waitForStatus(page, pack, 'Ready', 60_000);
  });

  it('packs from a plain-http host other than this device are refused, with the reason', async () => {
    await page.getByLabel('Manifest URL').fill('http://packs.example.org/manifest.json');
    await page.getByRole('button', { name: 'Add pack' }).click();
    await expect
      .poll(() => page.locator('.add-pack').textContent(), { timeout: 5_000 })
      .toContain('Packs must come from an https:// address: packs.example.org uses plain http://');
    await page.getByLabel('Manifest URL').fill('javascript:alert(1)');
    await page.getByRole('button', { name: 'Add pack' }).click();
    await expect
      .poll(() => page.locator('.add-pack').textContent(), { timeout: 5_000 })
      .toContain('A pack address must start with https:// (or http://localhost');
  });

  it('a manifest whose licence link is javascript: is refused, naming the field', async () => {
    const pack = host.add('evil-licence', [1_000]);
    pack.manifest.license = {
      spdx: 'MIT',
      name: 'MIT',
      url: 'javascript:alert(document.domain)',
      restricted: false,
      summary: 'Free.',
    };
    await page.getByLabel('Manifest URL').fill(pack.manifestUrl);
    await page.getByRole('button', { name: 'Add pack' }).click();
    await expect
      .poll(() => page.locator('.add-pack').textContent(), { timeout: 5_000 })
      .toContain('license.url must be an http(s) URL');
    expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
  });
});
