import type { ProxiedPlatform } from '@rewind/proxy';
import { pollCloudplaySession, pollRgsSession, spectateMoltStation } from '@rewind/live-capture';
import type { TaskOffer } from '@rewind/recorder';
import type { CaptureTaskContext, CaptureTaskResult } from '@rewind/capture-facts';

/** A run's signals: its latest credentials, when the agent was last active, and when its platform session expires. */
export type SignalName = 'bearer' | 'sessionToken' | 'activity' | 'expires';

/**
 * The signals each kind of capture task reads (the runners below): a cloud-play poller polls with the run's bearer; an
 * RGS poller with its session token, and it gates its polls on the agent's activity and the session's expiry; a
 * MoltStation spectator reads none (it watches public endpoints). A follower reads only these; the agent's activity
 * is mirrored to the vault only for runs with a task that reads it (RunSignalBoard.want).
 */
export const SIGNALS_READ: Readonly<Record<TaskOffer['kind'], readonly SignalName[]>> = {
  'moltstation-spectate': [],
  'cloudplay-poll': ['bearer'],
  'rgs-poll': ['sessionToken', 'activity', 'expires'],
};

/**
 * What a run's tasks need to know that only the proxy saw: the latest credential of the run (a cloud-play
 * bearer, an RGS session token) and when the agent was last active. Synchronous reads of a cache the
 * service keeps fresh (from this process's proxy, or from the encrypted vault for runs proxied elsewhere).
 */
export interface RunSignals {
  credential(runKey: string, name: 'bearer' | 'sessionToken'): string | undefined;
  lastActivityAtMs(runKey: string): number;
  expiresAtMs(runKey: string): number | undefined;
  /** Starts following `names` of a run proxied by another process (vault reads) until the returned function is called. */
  follow(runKey: string, names: readonly SignalName[]): () => void;
}

export interface TaskRunnerOptions {
  upstreams: Partial<Record<ProxiedPlatform, string>>;
  signals: RunSignals;
  /** Poll intervals (default 1000 ms). */
  pollIntervalMs?: number;
  /** RGS session inactivity TTL (default 1 h, the platform's). */
  rgsSessionTtlMs?: number;
  /**
   * A spectator with no frame for this long, on a session the platform still calls live or `created`, ends
   * `inactive` (its stream is ended and sealed). Pass the run idle time: a run silent that long is ended idle too.
   * Default: the spectator's (30 min).
   */
  spectateMaxSilenceMs?: number;
}

/** The capture task of each kind, bound to the configured upstreams and the runs' signals. */
export function taskRunners(o: TaskRunnerOptions): Record<TaskOffer['kind'], (offer: TaskOffer, ctx: CaptureTaskContext) => Promise<CaptureTaskResult>> {
  const base = (p: ProxiedPlatform): string => {
    const url = o.upstreams[p];
    if (!url) throw new Error(`no upstream configured for ${p}`);
    return url;
  };
  const following = async <T>(offer: TaskOffer, work: () => Promise<T>): Promise<T> => {
    const stop = o.signals.follow(offer.runKey, SIGNALS_READ[offer.kind]);
    try {
      return await work();
    } finally {
      stop();
    }
  };
  return {
    'moltstation-spectate': (offer, ctx) =>
      spectateMoltStation(
        {
          baseUrl: base('moltstation'),
          slug: String(offer.params['slug']),
          platformSessionId: String(offer.params['platformSessionId'] ?? offer.platformSessionId),
          ...(o.spectateMaxSilenceMs !== undefined ? { maxSilenceMs: o.spectateMaxSilenceMs } : {}),
        },
        ctx,
      ),
    'cloudplay-poll': (offer, ctx) =>
      following(offer, () =>
        pollCloudplaySession(
          {
            baseUrl: base('cloudplay'),
            sessionId: String(offer.params['sessionId']),
            getToken: () => o.signals.credential(offer.runKey, 'bearer'),
            ...(o.pollIntervalMs !== undefined ? { intervalMs: o.pollIntervalMs } : {}),
          },
          ctx,
        ),
      ),
    'rgs-poll': (offer, ctx) =>
      following(offer, () =>
        pollRgsSession(
          {
            baseUrl: base('rgs'),
            getToken: () => o.signals.credential(offer.runKey, 'sessionToken'),
            lastActivityAtMs: () => o.signals.lastActivityAtMs(offer.runKey),
            expiresAtMs: () => o.signals.expiresAtMs(offer.runKey),
            ...(o.pollIntervalMs !== undefined ? { intervalMs: o.pollIntervalMs } : {}),
            ...(o.rgsSessionTtlMs !== undefined ? { sessionTtlMs: o.rgsSessionTtlMs } : {}),
          },
          ctx,
        ),
      ),
  };
}
