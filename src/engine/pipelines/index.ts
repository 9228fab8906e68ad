export { Pipeline, type LoadOptions, type LoadProgress } from './pipeline';
export type {
  Conditioning,
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  NoisePredictor,
  StageTimings,
  StepContext,
  StepProgress,
} from './types';
