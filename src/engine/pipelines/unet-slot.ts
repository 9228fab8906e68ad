/**
 * The UNet a run steps with, and what may stand in for it for one run: a
 * rewritten copy (explain mode records attention from one) or a ControlNet
 * pair following an outline. A stand-in too big to sit beside the loaded
 * UNet takes its turn (the loaded one is released first and opened again
 * after), so two big UNets are never in memory together.
 */

import { GessoError } from '../../shared/errors';
import type { PackManifest, PackVariant } from '../../shared/pack-manifest';
import type { PackSource } from '../../shared/pack-source';
import type { ModelSession, SessionFactory } from '../session';
import { controlledUnet, outlineImage } from './control';
import { freeDimensions } from '../../shared/free-dimensions';
import { openModel } from './open-model';

/** A UNet file this small may be open twice (the loaded one and a copy); bigger ones take turns. */
const UNET_COPY_ALONGSIDE_MAX_BYTES = 256 * 1024 ** 2;

export interface SlotPack {
  manifest: PackManifest;
  variant: PackVariant;
  source: PackSource;
  factory: SessionFactory;
}

export class UnetSlot {
  /** A session standing in for the loaded UNet during `withCopy` or `withControl`. */
  private override: ModelSession | null = null;
  /** The ControlNet and its UNet, kept open between runs when small enough to sit beside the loaded UNet. */
  private control: { net: ModelSession; unet: ModelSession | null } | null = null;
  /**
   * Model files up to this size may be open beside the loaded UNet (an
   * explain copy, a ControlNet pair kept between runs); bigger ones take the
   * loaded UNet's turn.
   */
  alongsideMaxBytes = UNET_COPY_ALONGSIDE_MAX_BYTES;

  constructor(
    private base: ModelSession,
    private readonly pack: SlotPack,
  ) {}

  /** The UNet every step runs: the loaded one, or the current stand-in. */
  get current(): ModelSession {
    return this.override ?? this.base;
  }

  /**
   * Runs `work` with a copy of the loaded variant's UNet in its place, its
   * model bytes rewritten by `rewrite` first (external weights untouched) and
   * its session seen through `wrap` (same inputs, same main output). A UNet
   * file over `alongsideMaxBytes` is never open twice: the loaded UNet is
   * released while the copy runs and opened again after.
   */
  async withCopy<T>(
    copy: {
      rewrite: (model: Uint8Array) => Promise<Uint8Array>;
      wrap: (session: ModelSession) => ModelSession;
      label: string;
      alongsideMaxBytes?: number;
    },
    work: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const exclusive =
      this.fileSize(this.pack.variant.components.unet) >
      (copy.alongsideMaxBytes ?? this.alongsideMaxBytes);
    return this.withStandIn(
      exclusive,
      async () => {
        const session = await this.openUnet(copy.rewrite, copy.label, signal);
        return { unet: copy.wrap(session), release: () => session.release() };
      },
      work,
    );
  }

  /**
   * Runs `work` with the ControlNet following `outline` (the ControlNet and,
   * where the variant has one, the UNet export that takes its residuals). A
   * pair small enough to sit beside the loaded UNet stays open for the next
   * run; a bigger one takes the loaded UNet's turn and is released after.
   */
  async withControl<T>(
    outline: { mask: Uint8Array; strength: number },
    size: { width: number; height: number },
    work: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const { controlNet, controlUnet } = this.pack.variant.components;
    if (!controlNet)
      throw new GessoError(
        'control-unavailable',
        'This pack has no ControlNet, so it cannot follow an outline. Choose a pack that can, or turn Outline off.',
      );
    const input = {
      image: outlineImage(outline.mask, size.width, size.height),
      dims: [1, 3, size.height, size.width],
      strength: outline.strength,
    };
    const pairBytes = this.fileSize(controlNet) + (controlUnet ? this.fileSize(controlUnet) : 0);
    const keep = pairBytes <= this.alongsideMaxBytes;
    if (keep && this.control) {
      const unet = this.control.unet ?? this.base; // null: the loaded UNet takes the residuals
      this.override = controlledUnet(this.control.net, unet, input);
      try {
        return await work();
      } finally {
        this.override = null;
      }
    }
    const open = async () => {
      const dims = freeDimensions(this.pack.manifest).unet;
      // No overrides for the ControlNet: public exports name the condition
      // image's dims "height"/"width" too, in pixels, where the UNet's are latents.
      const net = await openModel(
        this.pack.source,
        this.pack.factory,
        controlNet,
        'ControlNet',
        {},
        signal,
      );
      let unet = this.base;
      try {
        if (controlUnet)
          unet = await openModel(
            this.pack.source,
            this.pack.factory,
            controlUnet,
            'image model (UNet) with control',
            dims,
            signal,
          );
      } catch (error) {
        await net.release();
        throw error;
      }
      const release = async () => {
        await net.release();
        if (unet !== this.base) await unet.release();
      };
      if (keep) this.control = { net, unet: controlUnet ? unet : null };
      return {
        unet: controlledUnet(net, unet, input),
        release: keep ? async () => undefined : release,
      };
    };
    return this.withStandIn(!keep && Boolean(controlUnet), open, work);
  }

  /**
   * Runs `work` with the session `open` gives standing in for the loaded
   * UNet. `exclusive`: the loaded UNet is released first and opened again
   * after, so the two are never in memory together.
   */
  private async withStandIn<T>(
    exclusive: boolean,
    open: () => Promise<{ unet: ModelSession; release: () => Promise<void> }>,
    work: () => Promise<T>,
  ): Promise<T> {
    if (exclusive) await this.base.release();
    try {
      const standIn = await open();
      try {
        this.override = standIn.unet;
        return await work();
      } finally {
        this.override = null;
        await standIn.release();
      }
    } finally {
      if (exclusive) this.base = await this.openUnet(async (model) => model, 'image model (UNet)');
    }
  }

  private fileSize(path: string): number {
    return this.pack.manifest.files.find((file) => file.path === path)?.size ?? 0;
  }

  private openUnet(
    rewrite: (model: Uint8Array) => Promise<Uint8Array>,
    label: string,
    signal?: AbortSignal,
  ): Promise<ModelSession> {
    const { unet } = this.pack.variant.components;
    const hints = freeDimensions(this.pack.manifest).unet;
    return openModel(this.pack.source, this.pack.factory, unet, label, hints, signal, rewrite);
  }

  async release(): Promise<void> {
    if (this.control) {
      await this.control.net.release();
      await this.control.unet?.release();
      this.control = null;
    }
    await this.base.release();
  }
}
