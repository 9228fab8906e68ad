/**
 * The gallery on a really full disk, in real Chromium on the production
 * build: the browser profile lives on a 64 MiB tmpfs (mounted here; needs
 * root, as CI has), two images are kept, the disk is filled, and a third is
 * made. Measured: the write fails as it does on a phone with no space left
 * (`DataError: Failed to write blobs (IOError)`) and, while the disk stays
 * full, the database cannot even be opened. A quota override through CDP
 * (Storage.overrideQuotaForOrigin) did not make IndexedDB blob writes fail
 * in Chromium 150, so it is not used.
 *
 * What must hold: a sentence about storage with what to do, on Create and in
 * the Gallery; nothing kept before is lost; after space is freed and the page
 * reloaded, the two older images are there and the failed one is not.
 */

import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH, PHONE } from '../../helpers/browser';
import { startStaticServer, type StaticServer } from '../../helpers/static-server';
import { galleryCount } from './seed';

const DIST = process.env.GESSO_DIST ?? 'dist';
const SIZE_MIB = 64;

/** Mounting a tmpfs needs root (as on CI, where the test run installs Chromium with apt). */
const CAN_MOUNT = process.getuid?.() === 0;
if (!CAN_MOUNT) console.warn('full-disk test skipped: mounting a small tmpfs needs root');

let disk: string | null = null;
let filler = '';

/** A tmpfs of SIZE_MIB at a new directory. */
function mountSmallDisk(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE_MIB}m`, 'tmpfs', dir]);
  return dir;
}

function freeBytes(): number {
  const stats = statfsSync(disk!);
  return stats.bavail * stats.bsize;
}

/** Fills the disk to its last byte, as a phone with no space left. */
function fillDisk(): void {
  const fd = openSync(filler, 'a');
  try {
    for (const size of [1 << 20, 1 << 12, 1 << 9]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        while (freeBytes() >= size) writeSync(fd, chunk);
      } catch {
        // ENOSPC: on to smaller chunks
      }
    }
  } finally {
    closeSync(fd);
  }
}

let server: StaticServer;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!CAN_MOUNT) return;
  disk = mountSmallDisk();
  filler = join(disk, 'filler');
  server = await startStaticServer(DIST);
  context = await chromium.launchPersistentContext(join(disk, 'profile'), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    ...PHONE,
    // No service worker: no first-visit reload, and nothing but the app's own data on the disk.
    serviceWorkers: 'block',
  });
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (disk) {
    execFileSync('umount', ['-l', disk]);
    rmSync(disk, { recursive: true, force: true });
  }
});

async function generate(prompt: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill(prompt);
  await page.getByRole('button', { name: 'Generate' }).click();
  await page
    .getByRole('img', { name: `Generated image: ${prompt}`, exact: true })
    .waitFor({ timeout: 90_000 });
}

function tiles() {
  return page.getByRole('list', { name: 'Images, newest first' }).getByRole('img');
}

describe.skipIf(!CAN_MOUNT)('the gallery on a full disk', () => {
  it('keeps every earlier image, and says the disk is full and what to do', async () => {
    await page.goto(`${server.url}/#/create`);
    await generate('red heart');
    await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(1);
    await generate('blue moon');
    await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(2);

    fillDisk();
    expect(freeBytes()).toBeLessThan(4096);
    await generate('green tree');
    const alert = page.getByRole('alert').filter({ hasText: 'Not kept in the gallery' });
    await alert.waitFor({ timeout: 30_000 });
    const sentence = (await alert.textContent())!;
    console.log(`on a full disk, Create says: ${sentence}`);
    expect(sentence).toMatch(/^Not kept in the gallery: The device is out of storage space \(/);
    expect(sentence).toContain('Free some space');
    expect(sentence).toContain('The images already in the gallery are kept.');

    // While the disk stays full the Gallery cannot be read: it says so, and does not claim to be empty.
    await page.goto(`${server.url}/#/gallery`);
    await page.getByRole('heading', { name: 'Gallery' }).waitFor();
    const unreadable = page.getByRole('alert');
    await unreadable.first().waitFor({ timeout: 30_000 });
    const text = (await unreadable.allTextContents()).join(' ');
    console.log(`on a full disk, the Gallery says: ${text}`);
    expect(text).toMatch(/storage space/);
    expect(text).toMatch(/Nothing in it was deleted/);
    expect(await page.getByText('No images yet.').count()).toBe(0);

    // Space comes back: both earlier images are there, whole; the failed one was not half-kept.
    rmSync(filler);
    await page.reload();
    await tiles().first().waitFor({ timeout: 30_000 });
    await expect
      .poll(() => tiles().evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt'))))
      .toEqual(['blue moon', 'red heart']);
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('.gallery-grid img')].every(
        (img) => img.complete && img.naturalWidth > 0,
      ),
    );
    expect(await galleryCount(page)).toBe(2);
    expect(await page.getByText('2 images, kept on this device only.').count()).toBe(1);
  });
});
