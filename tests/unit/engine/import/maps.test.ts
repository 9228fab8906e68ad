/**
 * The templates' name maps are total and 1:1, for SD 1.5 and SD 2.1 in both
 * layouts (map-checks.ts), here on the reduced-width templates the import
 * tests build. That every key is one a real state dict has is shown by
 * import.test.ts (a checkpoint of the whole architecture imports with nothing
 * missing and nothing left over). The committed full-size templates get the
 * same checks in committed-templates.test.ts.
 */

import { describe, it } from 'vitest';
import { loadTemplate } from './fixtures';
import { expectTotalAndOneToOne } from './map-checks';

describe('template name maps', () => {
  for (const family of ['sd15', 'sd21'] as const)
    it(`${family}: total and 1:1 in the ldm and diffusers layouts`, async () => {
      await expectTotalAndOneToOne(loadTemplate(family));
    });
});
