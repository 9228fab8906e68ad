/**
 * The service worker's download manager: one job per pack, driven by
 * commands from pages, progress broadcast to every page. The download loop
 * itself is download-pack.ts; this adds job control (pause,
 * resume, cancel, delete), the space check, the demo pack's automatic
 * install, waking interrupted downloads after a restart or when the device
 * is back online, manifest fetches with a time limit, and update checks
 * (update-check.ts does the checking).
 *
 * Over 300 lines because job control, the Background Fetch hand-off and the
 * built-in install share one lock table and one progress channel.
 */

import { createSHA256 } from 'hash-wasm';
import { GessoError, isAbortError, toErrorData, type ErrorData } from '../../src/shared/errors';
import { catalog } from '../../src/store/catalog';
import { DEFAULT_CHUNK_SIZE } from '../../src/store/chunk-layout';
import { jobProgress, prepareJob, runJob, type JobProgress } from './download-pack';
import { asStorageError, type ModelStore } from '../../src/store/model-store';
import {
  bgFetchId,
  bgFetchManager,
  bgFetchResponses,
  findBgFetch,
  slotOfBgFetch,
  type BgFetchRegistration,
} from './background-fetch';
import { RateMeter, secondsLeft } from './progress';
import type { Handlers } from '../../src/shared/rpc/host';
import {
  STORE_CHANNEL,
  type BackgroundFetchHandOff,
  type DownloadRequest,
  type StoreApi,
  type StoreConfig,
  type StoreEvent,
  type UpdateCheck,
} from '../../src/store/protocol';
import type { PackRecord } from '../../src/store/records';
import { checkPackUpdates } from './update-check';
import { checkSpace } from './space';
import { admitDownload } from './admission';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_STALL_TIMEOUT_MS,
  NetworkError,
  type RetryInfo,
} from './download-file';
import { DEFAULT_MANIFEST_TIMEOUT_MS, fetchManifestJson } from './manifest-fetch';
import {
  defaultVariant,
  parseManifest,
  type PackManifestInput,
} from '../../src/store/validate-manifest';

/**
 * How start() gets the bytes. 'auto': a Background Fetch already running, else
 * the fetch loop. 'offer': like 'auto', but when Background Fetch suits a fresh
 * download, start nothing and return a hand-off for the page (Chromium only
 * lets a page start one). 'loop': the fetch loop. A Map: the responses of a
 * finished Background Fetch.
 */
type Via = 'auto' | 'offer' | 'loop' | Map<string, Response>;

interface Active {
  controller: AbortController;
  done: Promise<void>;
}

/** navigator.onLine where there is one (service worker, page); true elsewhere. */
function online(): boolean {
  return typeof navigator === 'undefined' || navigator.onLine !== false;
}

export class DownloadManager {
  readonly config: StoreConfig = {
    chunkSize: DEFAULT_CHUNK_SIZE,
    retryDelayMs: 1000,
    backgroundFetch: true,
    backgroundFetchMinBytes: 20_000_000,
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    stallTimeoutMs: DEFAULT_STALL_TIMEOUT_MS,
    manifestTimeoutMs: DEFAULT_MANIFEST_TIMEOUT_MS,
  };
  private readonly active = new Map<string, Active>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly channel = new BroadcastChannel(STORE_CHANNEL);
  private demoChecked: Promise<void> | null = null;
  /** Failures the store could not record (its writes failed too): not restarted by wake(). */
  private readonly unrecorded = new Map<string, ErrorData>();
  /** Background Fetches whose progress is passed on to pages already. */
  private readonly relayed = new Set<string>();

  constructor(
    private readonly openStore: () => Promise<ModelStore>,
    private readonly baseUrl: string,
    private readonly registration: ServiceWorkerRegistration | null = null,
  ) {}

  /** Resolves when no download is running. */
  async idle(): Promise<void> {
    while (this.active.size > 0)
      await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  /** The store API, as the service worker serves it to pages. */
  readonly handlers: Handlers<StoreApi> = {
    configure: async (patch) => {
      Object.assign(this.config, patch);
      return { ...this.config };
    },
    wake: (args) => this.wake(args?.online === true),
    download: (request) => this.download(request),
    pause: ({ packId }) => this.locked(packId, () => this.pause(packId)),
    resume: ({ packId }) => this.locked(packId, () => this.resume(packId)),
    cancel: ({ packId }) => this.locked(packId, () => this.cancel(packId)),
    delete: ({ packId }) => this.locked(packId, () => this.remove(packId)),
    fetchManifest: async ({ url }) => ({ manifest: await this.fetchManifest(url) }),
    checkUpdates: ({ packIds, asked }) => this.checkUpdates(packIds ?? null, asked === true),
  };

  /**
   * Resumes downloads a restart interrupted (and those that stopped because
   * the device was offline, once it is online), and installs the demo pack
   * once. `backOnline`: a page saw the device come back online; downloads
   * that failed for any passing reason resume too.
   */
  async wake(backOnline = false): Promise<void> {
    const store = await this.openStore();
    for (const pack of await store.listPacks()) {
      const job = pack.job;
      if (!job || this.active.has(pack.id)) continue;
      if (job.state === 'downloading' && !this.unrecorded.has(pack.id))
        await this.locked(pack.id, () => this.start(pack.id)).catch(() => {});
      else if (
        job.state === 'failed' &&
        // A page that just saw the device come online knows better than a navigator.onLine that lags.
        (backOnline ? job.resumeOnline || job.offline : job.offline && online())
      )
        await this.locked(pack.id, () => this.resume(pack.id)).catch(() => {});
    }
    await (this.demoChecked ??= this.ensureBuiltins().catch(() => {
      this.demoChecked = null;
    }));
  }

  private async ensureBuiltins(): Promise<void> {
    for (const entry of catalog(this.baseUrl)) {
      if (!entry.autoInstall) continue;
      let manifest: PackManifestInput;
      try {
        manifest = parseManifest(entry.manifest ?? (await this.fetchManifest(entry.manifestUrl)));
      } catch {
        continue; // Offline or not built yet: try again on the next wake.
      }
      if (manifest.license.restricted) continue;
      const store = await this.openStore();
      const pack = await store.getPack(manifest.id);
      if (pack?.installed?.version === manifest.version) continue;
      if (pack?.job?.version === manifest.version && pack.job.state === 'paused') continue;
      await this.download(
        {
          manifest,
          manifestUrl: entry.manifestUrl,
          licenseAccepted: false,
          origin: 'builtin',
        },
        false,
        true,
      );
    }
  }

  /**
   * `offer`: the command came from a page that can start a Background Fetch.
   * `automatic`: the worker's own built-in install. What the page says about
   * the pack's origin is not trusted: admitDownload decides.
   */
  private async download(
    command: DownloadRequest,
    offer = true,
    automatic = false,
  ): Promise<BackgroundFetchHandOff | null> {
    let sent: PackManifestInput;
    try {
      sent = parseManifest(command.manifest);
    } catch (error) {
      this.emit({ type: 'changed', packId: '' });
      throw error;
    }
    return this.locked(sent.id, async () => {
      const store = await this.openStore();
      const existing = await store.getPack(sent.id);
      const admission = admitDownload({
        manifest: sent,
        manifestUrl: command.manifestUrl,
        baseUrl: this.baseUrl,
        existing,
        records: await store.listPacks(),
        automatic,
      });
      if (admission.kind === 'refuse') throw new GessoError('invalid-manifest', admission.message);
      if (admission.kind !== 'start') return null;
      const { manifest, origin } = admission;
      if (manifest.license.restricted && !command.licenseAccepted && !existing?.licenseAccepted)
        throw new GessoError(
          'storage-refused',
          `${manifest.name} has a restricted licence: accept it first.`,
        );
      if (existing?.job?.version === manifest.version && this.active.has(manifest.id)) return null;
      this.unrecorded.delete(manifest.id);
      await prepareJob(store, {
        manifest,
        manifestUrl: command.manifestUrl,
        variant: command.variant ?? existing?.job?.variant ?? defaultVariant(manifest),
        chunkSize: this.config.chunkSize,
        origin,
        licenseAccepted: command.licenseAccepted,
      });
      // Its manifest was just fetched from its host: that counts as today's update check.
      if (origin === 'user')
        await store.updatePack(manifest.id, (p) => ({ ...p, checkedAt: Date.now() }));
      this.emit({ type: 'changed', packId: manifest.id });
      return this.start(manifest.id, offer ? 'offer' : 'auto');
    });
  }

  /** A manifest's JSON from its host, within config.manifestTimeoutMs. */
  private fetchManifest(url: string): Promise<unknown> {
    return fetchManifestJson(
      {
        fetch: (u, init) => fetch(u, init),
        timeoutMs: this.config.manifestTimeoutMs,
        isOnline: online,
      },
      url,
    );
  }

  /** Newer manifests for user packs: at most daily and only online, or when asked. */
  private async checkUpdates(packIds: string[] | null, asked: boolean): Promise<UpdateCheck[]> {
    return checkPackUpdates(
      {
        store: await this.openStore(),
        fetchManifest: (url) => this.fetchManifest(url),
        online,
        locked: (packId, task) => this.locked(packId, task),
        changed: (packId) => this.emit({ type: 'changed', packId }),
      },
      packIds,
      asked,
    );
  }

  private async pause(packId: string): Promise<void> {
    const store = await this.openStore();
    await store.updatePack(packId, (p) =>
      p.job ? { ...p, job: { ...p.job, state: 'paused' } } : null,
    );
    await this.stop(packId);
    this.emit({ type: 'changed', packId });
  }

  private async resume(packId: string): Promise<void> {
    if (this.active.has(packId)) return;
    const store = await this.openStore();
    const pack = await store.updatePack(packId, (p) =>
      p.job
        ? {
            ...p,
            job: {
              ...p.job,
              state: 'downloading',
              error: null,
              resumeOnline: false,
              offline: false,
            },
          }
        : null,
    );
    if (!pack) return;
    this.unrecorded.delete(packId);
    this.emit({ type: 'changed', packId });
    await this.start(packId);
  }

  private async cancel(packId: string): Promise<void> {
    await this.stop(packId);
    const store = await this.openStore();
    const pack = await store.getPack(packId);
    if (!pack?.job) return;
    // The installed version is never part of a job, but never delete it by mistake either.
    if (pack.job.slot !== pack.installed?.slot) await store.deleteSlot(pack.job.slot);
    await store.putPack({ ...pack, job: null });
    this.unrecorded.delete(packId);
    this.emit({ type: 'changed', packId });
  }

  private async remove(packId: string): Promise<void> {
    await this.stop(packId);
    const store = await this.openStore();
    await store.deletePack(packId);
    this.unrecorded.delete(packId);
    this.emit({ type: 'changed', packId });
  }

  private async stop(packId: string): Promise<void> {
    const slot = (await (await this.openStore()).getPack(packId))?.job?.slot;
    if (slot && this.registration) await (await findBgFetch(this.registration, slot))?.abort();
    const active = this.active.get(packId);
    if (!active) return;
    active.controller.abort();
    await active.done;
  }

  /** Checks space, then runs the job in the background. Must be called under the pack's lock. */
  private async start(packId: string, via: Via = 'auto'): Promise<BackgroundFetchHandOff | null> {
    if (this.active.has(packId)) return null;
    const store = await this.openStore();
    const pack = await store.getPack(packId);
    if (!pack?.job) return null;
    const progress = await jobProgress(store, pack.job);
    const estimate = await navigator.storage?.estimate?.().catch(() => null);
    const space = checkSpace(
      pack.manifest.name,
      progress.bytesTotal - progress.bytesDone,
      estimate?.quota !== undefined ? { usage: estimate.usage ?? 0, quota: estimate.quota } : null,
    );
    if (!space.ok) {
      const refusal = new GessoError('storage-full', space.message);
      await this.fail(store, packId, refusal);
      throw refusal;
    }
    if (!(via instanceof Map) && !online()) {
      // Said at once, not after the stall limit: nothing can arrive while offline.
      const offline = new NetworkError(
        `You're offline, so ${pack.manifest.name} can't download now. It carries on by itself when you're back online.`,
        true,
        true,
      );
      await this.fail(store, packId, offline);
      throw offline;
    }
    if (via === 'auto' || via === 'offer') {
      const background = await this.background(store, pack, progress, via === 'offer');
      if (background === 'running') return null;
      if (background) return background;
    }
    const responses = via instanceof Map ? via : null;
    // The browser downloaded it already: what runs now is storing and hashing.
    const saving = responses !== null;
    const controller = new AbortController();
    const meter = new RateMeter();
    let lastSent = 0;
    let note: string | null = null;
    let latest: JobProgress = progress;
    const report = (p: JobProgress, force = false) => {
      latest = p;
      const now = Date.now();
      // Progress comes with every piece read: sample and send at most 5 times a second.
      if (!force && now - lastSent < 200) return;
      lastSent = now;
      if (p.bytesDone < (meter.last ?? 0)) meter.reset(); // a cut dropped the partial chunk
      meter.add(now, p.bytesDone);
      const rate = note ? null : meter.rate();
      this.emit({
        type: 'progress',
        packId,
        ...p,
        rate,
        secondsLeft: secondsLeft(p.bytesTotal - p.bytesDone, rate),
        note,
        ...(saving ? { saving } : {}),
      });
    };
    const done = (async () => {
      try {
        await runJob(
          {
            store,
            fetch: (url, init) => {
              // Each Background Fetch response is used once; anything after goes to the network.
              const response = responses?.get(url);
              responses?.delete(url);
              return response ? Promise.resolve(response) : fetch(url, init);
            },
            createHasher: createSHA256,
            signal: controller.signal,
            retryDelayMs: this.config.retryDelayMs,
            connectTimeoutMs: this.config.connectTimeoutMs,
            stallTimeoutMs: this.config.stallTimeoutMs,
            isOnline: online,
            onRetry: (info: RetryInfo) => {
              const count = info.attempt > 1 ? ` (attempt ${info.attempt} of ${info.of})` : '';
              note = `${info.path}: ${info.reason}; trying again${count}.`;
              report(latest, true);
            },
            onProgress: (p) => {
              if (note && p.bytesDone > latest.bytesDone) note = null;
              report(p);
            },
          },
          packId,
        );
      } catch (error) {
        if (!(isAbortError(error) && controller.signal.aborted))
          await this.fail(store, packId, error);
      } finally {
        this.active.delete(packId);
        note = null;
        const after = await store.getPack(packId).catch(() => undefined);
        if (after?.job) report(await jobProgress(store, after.job).catch(() => latest), true);
        this.emit({ type: 'changed', packId });
      }
    })();
    this.active.set(packId, { controller, done });
    return null;
  }

  /**
   * 'running' when a Background Fetch already downloads this job (progress is
   * relayed); a hand-off when `offer` and a fresh, big download suits one;
   * null for the fetch loop.
   */
  private async background(
    store: ModelStore,
    pack: PackRecord,
    progress: JobProgress,
    offer: boolean,
  ): Promise<'running' | BackgroundFetchHandOff | null> {
    const job = pack.job;
    if (!job || !this.registration || !bgFetchManager(this.registration)) return null;
    const running = await findBgFetch(this.registration, job.slot);
    if (running) {
      this.relayBgFetch(pack.id, running, progress);
      return 'running';
    }
    if (!offer || !this.config.backgroundFetch) return null;
    if (progress.bytesDone > 0 || progress.bytesTotal < this.config.backgroundFetchMinBytes)
      return null;
    const files = (await store.listFiles(job.slot)).filter((f) => job.paths.includes(f.path));
    return {
      id: bgFetchId(job.slot),
      packId: pack.id,
      title: pack.manifest.name,
      urls: files.map((f) => f.url),
      downloadTotal: progress.unknownSizes ? null : progress.bytesTotal,
      icon: new URL('icons/icon-192.png', this.registration.scope).href,
    };
  }

  /**
   * Passes a running Background Fetch's progress on to pages, with rate and
   * time left, once per fetch (start() runs again at every wake).
   */
  private relayBgFetch(packId: string, running: BgFetchRegistration, progress: JobProgress): void {
    if (this.relayed.has(running.id)) return;
    this.relayed.add(running.id);
    const meter = new RateMeter();
    const relay = () => {
      const now = Date.now();
      meter.add(now, running.downloaded);
      const rate = meter.rate();
      this.emit({
        type: 'progress',
        packId,
        bytesDone: running.downloaded,
        bytesTotal: progress.bytesTotal,
        unknownSizes: progress.unknownSizes,
        rate,
        secondsLeft: secondsLeft(progress.bytesTotal - running.downloaded, rate),
      });
    };
    running.addEventListener('progress', relay);
    relay();
  }

  /** Background Fetch finished: store and verify its responses (network for anything missing). */
  async backgroundFetchSucceeded(id: string, registration: BgFetchRegistration): Promise<void> {
    this.relayed.delete(id);
    const packId = await this.packOfBgFetch(id);
    if (!packId) return;
    const responses = await bgFetchResponses(registration);
    await this.locked(packId, () => this.start(packId, responses));
    await this.idle();
  }

  /** Background Fetch failed or was cancelled in the browser's own UI. */
  async backgroundFetchEnded(id: string, aborted: boolean): Promise<void> {
    this.relayed.delete(id);
    const packId = await this.packOfBgFetch(id);
    if (!packId) return;
    const store = await this.openStore();
    if ((await store.getPack(packId))?.job?.state !== 'downloading') return; // paused or cancelled here
    if (aborted) {
      await this.locked(packId, () => this.pause(packId));
      return;
    }
    await this.locked(packId, () => this.start(packId, 'loop'));
    await this.idle();
  }

  private async packOfBgFetch(id: string): Promise<string | null> {
    const slot = slotOfBgFetch(id);
    if (!slot) return null;
    const packs = await (await this.openStore()).listPacks();
    return packs.find((p) => p.job?.slot === slot)?.id ?? null;
  }

  /** Records the failure on the job (and says so on the channel, in case storage can't record it). */
  private async fail(store: ModelStore, packId: string, error: unknown): Promise<void> {
    const data = toErrorData(asStorageError(error));
    const network = error instanceof NetworkError ? error : null;
    try {
      await store.updatePack(packId, (p: PackRecord) =>
        p.job
          ? {
              ...p,
              job: {
                ...p.job,
                state: 'failed',
                error: data,
                resumeOnline: network?.transient ?? false,
                offline: network?.offline ?? false,
              },
            }
          : null,
      );
      this.unrecorded.delete(packId);
    } catch {
      this.unrecorded.set(packId, data);
    }
    this.emit({ type: 'failed', packId, error: data });
    this.emit({ type: 'changed', packId });
  }

  /** Runs `task` after every earlier task for the same pack. */
  private locked<T>(packId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(packId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(task);
    this.locks.set(packId, next);
    return next;
  }

  private emit(event: StoreEvent): void {
    this.channel.postMessage(event);
  }
}
