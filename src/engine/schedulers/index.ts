/** Scheduler for a pack's manifest. */

import type { SchedulerConfig } from '../../shared/pack-manifest';
import { createEulerAncestralScheduler } from './euler-ancestral';
import { createLcmScheduler } from './lcm';
import type { Scheduler, SchedulerOptions } from './types';

export type { Scheduler, SchedulerOptions, StepForm, StepResult } from './types';
export { classifierFreeGuidance, guidanceEmbedding } from './guidance';

export function createScheduler(config: SchedulerConfig, options: SchedulerOptions): Scheduler {
  switch (config.kind) {
    case 'lcm':
      return createLcmScheduler(config, options);
    case 'euler-ancestral-trailing':
      return createEulerAncestralScheduler(config, options);
  }
}
