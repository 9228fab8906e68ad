// Screenshots of Create (first visit, a result, each tool, Explain, the
// settings sheet), Gallery (grid and one item), Models and Settings at
// 390x844 CSS pixels, deviceScaleFactor 2, from the production build, into
// docs/screenshots/. The gallery gets a few images first: made on the Create
// screen when a pack is ready there, otherwise drawn in the page and stored
// with the gallery's record layout (src/store/gallery/db.ts).
//
//   npx vite build && node scripts/screenshots.mjs [distDir]
// GESSO_DEMO_PACK=<dir> serves a pack directory as the built-in demo pack
// (/packs/demo/) for builds that do not carry one.
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const DIST = resolve(process.argv[2] ?? process.env.GESSO_DIST ?? 'dist');
const OUT = resolve('docs/screenshots');
const DEMO_PACK = process.env.GESSO_DEMO_PACK ? resolve(process.env.GESSO_DEMO_PACK) : null;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
  '--disable-background-networking',
  '--disable-component-update',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
];
// The last one made stays on the Create screen for its screenshot.
const PROMPTS = [
  'pink flower',
  'orange cat',
  'blue moon',
  'yellow star',
  'green tree',
  'red heart',
];
const SEEDS = [6, 5, 4, 3, 2, 1];
const EMOJI = ['🌸', '🐱', '🌙', '⭐', '🌳', '❤️'];

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

function serve(root) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathname = decodeURIComponent(url.pathname);
    const base = DEMO_PACK && pathname.startsWith('/packs/demo/') ? DEMO_PACK : root;
    const relative = base === root ? pathname : pathname.slice('/packs/demo/'.length);
    let path = normalize(join(base, relative));
    if (!path.startsWith(base)) return void res.writeHead(403).end();
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'index.html');
    if (!existsSync(path)) return void res.writeHead(404).end('Not found');
    res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () =>
      done({ server, url: `http://127.0.0.1:${server.address().port}` }),
    ),
  );
}

/** Tries the real Create screen; returns how many images it made. */
async function generate(page, url) {
  let made = 0;
  for (const [index, prompt] of PROMPTS.entries()) {
    await page.goto(`${url}/#/create`);
    const box = page.getByRole('textbox', { name: 'Prompt', exact: true });
    await box.waitFor();
    await box.fill(prompt);
    // Fixed seeds, so the screenshots come out the same every time (in the settings sheet).
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await page.getByLabel('Seed', { exact: true }).fill(String(SEEDS[index]));
    await page
      .getByRole('dialog', { name: 'Settings' })
      .getByRole('button', { name: 'Done' })
      .click();
    const button = page.getByRole('button', { name: 'Generate' });
    if (!(await button.isEnabled())) break;
    await button.click();
    try {
      await page
        .getByRole('img', { name: `Generated image: ${prompt}` })
        .waitFor({ timeout: 60_000 });
      made++;
    } catch {
      break;
    }
  }
  return made;
}

/** Draws emoji images in the page and stores them as gallery items. */
async function seed(page) {
  await page.evaluate(
    async ({ prompts, emoji }) => {
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open('gesso-gallery');
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const now = Date.now();
      const records = [];
      for (let i = 0; i < prompts.length; i++) {
        const canvas = new OffscreenCanvas(64, 64);
        const context = canvas.getContext('2d');
        context.fillStyle = '#f6f0e4';
        context.fillRect(0, 0, 64, 64);
        context.font = '44px "Noto Color Emoji"';
        context.textAlign = 'center';
        context.textBaseline = 'middle';
        context.fillText(emoji[i], 32, 36);
        const png = await canvas.convertToBlob({ type: 'image/png' });
        const createdAt = now - (prompts.length - i) * 60_000;
        records.push({
          item: {
            id: `${createdAt.toString(36).padStart(9, '0')}-shot${i}`,
            createdAt,
            recipe: {
              prompt: prompts[i],
              negativePrompt: '',
              pack: { id: 'demo-emoji', version: '1.0.0', variant: 'fp32' },
              steps: 4,
              guidance: 1,
              seed: 1000 + i * 7919,
              width: 64,
              height: 64,
              sampler: 'LCM',
            },
            run: { backend: 'wasm', timings: { totalMs: 900 + i * 40 } },
            pngBytes: png.size,
            thumbBytes: png.size,
          },
          png,
        });
      }
      const tx = db.transaction(['items', 'images', 'thumbs'], 'readwrite');
      for (const { item, png } of records) {
        tx.objectStore('items').put(item);
        tx.objectStore('images').put({ id: item.id, blob: png });
        tx.objectStore('thumbs').put({ id: item.id, blob: png });
      }
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    },
    { prompts: PROMPTS, emoji: EMOJI },
  );
}

async function shot(page, name) {
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(300);
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path });
  console.log(`wrote ${path}`);
}

if (!existsSync(join(DIST, 'index.html'))) {
  console.error(`No build at ${DIST}: run "npx vite build" first.`);
  process.exit(1);
}
mkdirSync(OUT, { recursive: true });
const { server, url } = await serve(DIST);
const profile = mkdtempSync(join(tmpdir(), 'gesso-shots-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ARGS,
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  colorScheme: 'dark',
});
try {
  const page = await context.newPage();
  await page.goto(`${url}/#/gallery`);
  // The first visit reloads once, when the service worker makes the page isolated.
  await page.waitForFunction(
    () => Boolean(navigator.serviceWorker.controller) && globalThis.crossOriginIsolated,
  );
  await page.getByRole('heading', { name: 'Gallery' }).waitFor();
  // A first visit to Create: examples to try, and where the real models are.
  await page.goto(`${url}/#/create`);
  await page.getByRole('group', { name: 'Examples to try' }).waitFor();
  await shot(page, 'create-first-visit');
  const made = process.env.SHOTS_SEED_ONLY ? 0 : await generate(page, url);
  if (made === 0) {
    console.log('The Create screen made no image here; seeding drawn images into the gallery.');
    await seed(page);
  } else {
    console.log(`Made ${made} images on the Create screen.`);
  }
  await page.goto(`${url}/#/create`);
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).waitFor();
  // The last result at the top, not the prompt field that had focus.
  await page.evaluate(() => {
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    document.scrollingElement?.scrollTo(0, 0);
    document.querySelector('.app-main')?.scrollTo(0, 0);
  });
  await shot(page, 'create');
  // Each tool open over the result, then Explain's words, then the settings sheet.
  const tools = page.getByRole('toolbar', { name: 'Tools' });
  for (const tool of ['Regions', 'Repaint', 'Outline', 'Photo']) {
    const button = tools.getByRole('button', { name: tool, exact: true });
    if (await button.isDisabled()) continue;
    await button.click();
    await shot(page, `create-${tool.toLowerCase()}`);
    await button.click();
  }
  const explain = page.getByRole('button', { name: 'Explain', exact: true });
  if (await explain.count()) {
    await explain.click();
    const maps = page.getByRole('region', { name: 'Which word painted where' });
    try {
      await maps.waitFor({ timeout: 60_000 });
      await maps.getByRole('button').first().click();
      await shot(page, 'create-explain');
    } catch {
      console.log('Explain gave no maps here: no screenshot of it.');
    }
  }
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.getByRole('dialog', { name: 'Settings' }).waitFor();
  await shot(page, 'create-settings');
  await page.goto(`${url}/#/gallery`);
  await page.locator('.gallery-grid img').first().waitFor();
  await shot(page, 'gallery');
  await page.getByRole('button', { name: 'red heart', exact: true }).click();
  await page.getByRole('dialog').locator('img').first().waitFor();
  await shot(page, 'gallery-item');
  await page.goto(`${url}/#/models`);
  await page.getByRole('heading', { name: 'Models' }).waitFor();
  await shot(page, 'models');
  await page.goto(`${url}/#/settings`);
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  await shot(page, 'settings');
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  server.close();
}
