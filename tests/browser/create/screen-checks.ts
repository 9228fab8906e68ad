/** Checks on the Create screen as laid out: what is in view unscrolled, overflow, axe-core, and counted taps. */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Locator, Page } from 'playwright-core';

/** The viewports the Create screen is checked at: a phone, a small Android phone, and a phone on its side. */
export const VIEWPORTS = [
  { name: '390x844 portrait', width: 390, height: 844 },
  { name: '360x640 portrait', width: 360, height: 640 },
  { name: '844x390 landscape', width: 844, height: 390 },
] as const;

/** True when the element's whole box lies inside the viewport. */
export async function inView(locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox();
  const size = locator.page().viewportSize();
  if (!box || !size) return false;
  return (
    box.x >= 0 &&
    box.y >= 0 &&
    box.x + box.width <= size.width + 0.5 &&
    box.y + box.height <= size.height + 0.5 &&
    box.width > 0 &&
    box.height > 0
  );
}

/** Neither the page nor the app's scrolling area has been scrolled. */
export async function notScrolled(page: Page): Promise<boolean> {
  return page.evaluate(
    () =>
      scrollY === 0 &&
      (document.scrollingElement?.scrollTop ?? 0) === 0 &&
      (document.querySelector('.app-main')?.scrollTop ?? 0) === 0,
  );
}

/** The page is no wider than the viewport (nothing to scroll sideways). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(
    () => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - innerWidth,
  );
}

/** The main Create controls: the drawing canvas over the picture, Prompt and Generate. */
export function mainControls(page: Page): Record<string, Locator> {
  return {
    canvas: page.getByRole('img', { name: 'Drawing canvas' }),
    prompt: page.getByRole('textbox', { name: 'Prompt', exact: true }),
    generate: page.getByRole('button', { name: 'Generate', exact: true }),
  };
}

/** Names of the main controls that are not wholly in view. */
export async function outOfView(controls: Record<string, Locator>): Promise<string[]> {
  const out: string[] = [];
  for (const [name, locator] of Object.entries(controls))
    if (!(await inView(locator))) out.push(name);
  return out;
}

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** axe-core's WCAG 2.1 A and AA violations on the page as it is now (injected past the page's CSP). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run: (
            context: Document,
            options: object,
          ) => Promise<{
            violations: {
              id: string;
              impact: string | null;
              help: string;
              nodes: { target: string[] }[];
            }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
}

/** Counts the taps a task takes: every press goes through tap(). */
export class Taps {
  count = 0;
  async tap(locator: Locator): Promise<void> {
    this.count += 1;
    await locator.tap();
  }
  /**
   * A press made as a click: right after DevTools finger strokes, Chromium's
   * synthetic touch turns the next tap into pointer events but no click.
   */
  async press(locator: Locator): Promise<void> {
    this.count += 1;
    await locator.click();
  }
  /** A file chosen through a file input: one tap on the control, then the picker. */
  async pickFile(input: Locator, file: { name: string; mimeType: string; buffer: Buffer }) {
    this.count += 1;
    await input.setInputFiles(file);
  }
}
