/** Entry of the GPU bench bundled on its own (scripts/gpu-run.sh): its arguments as `npm run bench -- --gpu` takes them. */

import { main } from './gpu-cli';

await main(process.argv.slice(2));
process.exit(0);
