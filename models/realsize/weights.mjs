// Largest weight and total weight bytes of every model in a pack folder, read
// with the app's own streaming walker (src/shared/onnx/inspect.ts).
//   node models/realsize/weights.mjs ~/.cache/gesso/realsize/sd-turbo-full
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runnerImport } from 'vite';

const { summariseWeights } = (await runnerImport(resolve('src/shared/onnx/inspect.ts'))).module;
const dir = process.argv[2];
const models = [];
const walk = (d) => {
  for (const name of readdirSync(d)) {
    const path = join(d, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.onnx')) models.push(path);
  }
};
walk(dir);
for (const path of models.sort()) {
  const s = await summariseWeights(createReadStream(path, { highWaterMark: 4 << 20 }));
  console.log(
    `${path.slice(dir.length + 1).padEnd(32)} largest ${String(s.largestBytes).padStart(11)} B (${s.largestName})  weights ${s.totalBytes} B in ${s.count} tensors`,
  );
}
