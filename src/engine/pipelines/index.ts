export { Pipeline } from './pipeline';
export type { LoadOptions, LoadProgress } from './load';
export type {
  Conditioning,
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  InitLatents,
  KeepLatents,
  NoisePredictor,
  StepContext,
  StepProgress,
} from './types';
export type { StageTimings } from '../../shared/recipe';
