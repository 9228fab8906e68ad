/** Scheduler for a pack's manifest. */

import type { SchedulerConfig } from '../../shared/pack-manifest';
import { alphasCumprod } from './alphas';
import { createEulerAncestralScheduler } from './euler-ancestral';
import { createLcmScheduler } from './lcm';
import { vPrediction } from './prediction';
import type { Scheduler, SchedulerOptions } from './types';

export type { Scheduler, SchedulerOptions, StepForm, StepResult } from './types';
export { classifierFreeGuidance, guidanceEmbedding } from './guidance';

export function createScheduler(config: SchedulerConfig, options: SchedulerOptions): Scheduler {
  const scheduler =
    config.kind === 'lcm'
      ? createLcmScheduler(config, options)
      : createEulerAncestralScheduler(config, options);
  return config.prediction === 'v' ? vPrediction(scheduler, alphasCumprod(config)) : scheduler;
}
