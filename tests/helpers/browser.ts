/** Debian's Chromium, driven by playwright-core, with the flags that work on these machines. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Locator,
  type Page,
} from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
  '--disable-background-networking',
  '--disable-component-update',
  ...webGpuArgs(),
];

/**
 * The flags that give pages WebGPU on SwiftShader (no GPU here). Chrome is
 * deprecating SwiftShader as a WebGPU fallback; `--enable-unsafe-swiftshader`
 * is the opt-in it keeps for it, unknown flags are ignored by older builds,
 * and GESSO_CHROMIUM_WEBGPU_ARGS (space-separated) replaces all three if the
 * flags change again.
 */
function webGpuArgs(): string[] {
  const override = process.env.GESSO_CHROMIUM_WEBGPU_ARGS;
  if (override !== undefined) return override.split(/\s+/).filter(Boolean);
  return [
    '--enable-unsafe-webgpu',
    '--enable-unsafe-swiftshader',
    '--use-webgpu-adapter=swiftshader',
  ];
}

/** A phone in portrait: 390x844 CSS pixels, touch, mobile viewport. */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
};

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A persistent profile (a default context is incognito-like: no
 * installability, smaller quota). Call close() to end it and delete the profile.
 */
export async function launchPersistent(
  options: BrowserContextOptions = PHONE,
): Promise<{ context: BrowserContext; close: () => Promise<void>; profileDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
  return {
    context,
    profileDir: dir,
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the service worker controls `page` and it is cross-origin isolated (the first visit reloads once for that). */
export async function waitForIsolatedControl(page: Page): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      if (
        await page.evaluate(
          () => Boolean(navigator.serviceWorker.controller) && globalThis.crossOriginIsolated,
        )
      )
        return;
    } catch {
      // navigating
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the service worker never controlled an isolated page');
}

/** An <img>'s natural size and RGBA pixels, read through a canvas in its page (after it decodes). */
export async function imagePixels(
  image: Locator,
): Promise<{ width: number; height: number; data: number[] }> {
  await image.waitFor();
  return image.evaluate(async (element) => {
    const img = element as HTMLImageElement;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(img, 0, 0);
    const data = Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data);
    return { width: canvas.width, height: canvas.height, data };
  });
}
