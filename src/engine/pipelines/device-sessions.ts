/**
 * The small sessions of the GPU-resident loop, made from graphs Gesso writes
 * itself (device-step.ts) through the pack's own session factory, so they
 * run on the same device as the UNet: the step graph (guided or not) and a
 * read-back per dtype. Opened on first use, kept until the pack is released.
 */

import type { DeviceTensor, ModelSession, SessionFactory } from '../session';
import type { CpuTensor } from '../tensors';
import { isDeviceTensor } from '../session';
import { GessoError } from '../../shared/errors';
import { readBackGraph, STEP, stepGraph, type StepGraphTypes } from './device-step';

const STEP_OUTPUTS = [STEP.next, STEP.nextInput, STEP.finalInput, STEP.previewInput];

export class DeviceSessions {
  private readonly sessions = new Map<string, Promise<ModelSession>>();

  constructor(private readonly factory: SessionFactory) {}

  private open(key: string, make: () => Promise<ModelSession>): Promise<ModelSession> {
    let session = this.sessions.get(key);
    if (!session) {
      session = make();
      session.catch(() => this.sessions.delete(key));
      this.sessions.set(key, session);
    }
    return session;
  }

  /** The step graph for these dtypes, its outputs left on the GPU. */
  step(types: StepGraphTypes, guided: boolean): Promise<ModelSession> {
    return this.open(JSON.stringify(['step', types, guided]), async () =>
      this.factory(await stepGraph(types, guided), 'sampling step', {
        deviceOutputs: STEP_OUTPUTS,
      }),
    );
  }

  /** A GPU tensor's values on the CPU (one read). */
  async readBack(value: DeviceTensor): Promise<CpuTensor> {
    const session = await this.open(`read:${value.type}`, async () =>
      this.factory(await readBackGraph(value.type), 'read-back'),
    );
    const copy = (await session.run({ value }))['copy']!;
    if (isDeviceTensor(copy))
      throw new GessoError('internal', 'A read-back from the GPU stayed on the GPU.');
    return copy;
  }

  async release(): Promise<void> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(open.map(async (session) => (await session.catch(() => null))?.release()));
  }
}
