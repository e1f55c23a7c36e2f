import { createHash, randomUUID } from 'node:crypto';
import type { EventStore, NewSession, Platform } from '@rewind/event-store';
import { liveCaptureSources } from '@rewind/observability';
import type { CapturedFact, CaptureSink, CaptureTaskLogger, ResumedStream } from '@rewind/capture-facts';
import type { Ingest } from '@rewind/ingest';
import { FactEncoder } from './encoder';
import type { Redactor } from '@rewind/redaction';
import { EndSignal, Fingerprint, inspectWsMessage, LearnedCredential, StreamIdentity } from '@rewind/platforms';
import { decideAndFold, initialState, refOf, safeId as safeIdOf } from './lifecycle';
import type { LifecycleCommand, LifecycleEffect, LifecycleState, StreamKind, TaskOffer } from './lifecycle';

export { captureStopped, safeId, taskId } from './lifecycle/decide';

const OWNED = { owned: true } as const;
/** A recorded event's options when it has no outbox rows (one shared object, not one per message). */
const NO_OUTBOX: { outbox?: never } = Object.freeze({});
/** Credential fingerprints remembered at most (see the constructor); past it the memory starts afresh. */
const FINGERPRINTS_KEPT = 4096;
export type { TaskOffer } from './lifecycle/types';

export interface RecorderOptions {
  ingest: Ingest;
  /** The store behind the Ingest (read to continue a task's stream after a take-over). */
  store: EventStore;
  redactor: Redactor;
  log: CaptureTaskLogger;
  /** Which process captured (stored in session metadata). Default `proxy`. */
  capturedBy?: 'proxy' | 'spectator' | 'poller';
  /** An ended run stays open for late events this long, then it is sealed. Default 10 s. */
  sealAfterMs?: number;
  /** An account stream (traffic of no run) ends after this much silence. Default 60 s. */
  accountIdleMs?: number;
  /** A run with no traffic for this long ends with reason `idle`. Default 30 min. */
  runIdleMs?: number;
  /** RGS session inactivity TTL (the platform's: 1 h). The run ends `expired` when it passes. */
  rgsSessionTtlMs?: number;
  /** Tasks to start for runs (spectators, pollers). */
  onTask?: (offer: TaskOffer) => void;
  /** The latest credential of a run (held in memory or an encrypted vault; never stored in clear). */
  onCredential?: (runKey: string, credential: LearnedCredential) => void;
  /** The agent called the platform for this run (RGS pollers poll only while the agent is active). */
  onActivity?: (runKey: string, atMs: number) => void;
  /** Default Date.now. */
  now?: () => number;
  /**
   * This process's writer token, kept in the metadata of every stream it opens (`metadata.writer`): if the
   * process dies, whoever adopts its journal seals what it left open (see `sealStreamsOfDeadWriter`).
   */
  writer?: string;
}

/** Where a task's facts go: one stream, and how it finished. */
export interface TaskStream extends CaptureSink {
  readonly sessionId: string;
  readonly resumed: ResumedStream | undefined;
  /** Records the outcome (once) and ends the run's stream; sealed after `sealAfterMs`. */
  end(signal: EndSignal): void;
  /** Stops recording into it (task aborted: another holder may continue the stream). */
  release(): void;
}

/**
 * Turns captured facts into sessions of the event log: per platform it decides which stream (run or
 * account) each fact belongs to, encodes it (redacted), records it through the Ingest, and follows each
 * run's lifecycle — opened on its first event, ended on the platform's end signal with an `outcome` event
 * and the outbox rows for snapshot submission and reward handoff (same transaction), sealed after a grace
 * period for late events. See docs/capture/recorder.md.
 *
 * The lifecycle itself is a pure decider (`./lifecycle`: `decide(command, state, now)` → events + effects,
 * `evolve(state, event)` → state); this class is its adapter: it encodes each fact, hands it over with the
 * clock and an id source, keeps the folded state, and carries the effects out (the Ingest, task offers,
 * credentials, one real timer per stream that sends `TimerDue` back).
 *
 * `capture` is the recording proxy's sink: synchronous, never throws, never waits on storage.
 */
export class Recorder implements CaptureSink {
  private readonly encoder: FactEncoder;
  private readonly ingest: Ingest;
  private readonly log: CaptureTaskLogger;
  private readonly now: () => number;
  private readonly fingerprint: Fingerprint;
  private readonly newId = (): string => randomUUID();
  private state: LifecycleState;
  /** The real timer armed for each stream and when it fires (an earlier one is kept: the decider re-arms it). */
  private readonly timers = new Map<string, { handle: NodeJS.Timeout; atMs: number }>();
  /** Attempts of capture tasks opened here (the decider lets only a task's latest attempt write its stream). */
  private attempts = 0;
  private readonly unregisterMetrics: () => void;
  private readonly counters = { facts: 0, events: 0, failures: 0, streamsOpened: 0, runsEnded: 0 };
  private readonly opened: { id: string; platform: Platform; key: string; kind: 'run' | 'account' | 'task' }[] = [];

  constructor(private readonly options: RecorderOptions) {
    this.encoder = new FactEncoder(options.redactor);
    this.ingest = options.ingest;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    // HTTP attribution fingerprints the agent's credential on every exchange (its account stream, its agent): the same
    // bearer, exchange after exchange. An HMAC each time was most of the attribution's share of the recorder's time
    // in the soak (issue 18); the fingerprint of a credential seen lately is remembered instead (pure: one secret,
    // one value; bounded, held in memory as the secret registry holds secrets).
    const fingerprints = new Map<string, string>();
    this.fingerprint = (secret) => {
      let f = fingerprints.get(secret);
      if (f === undefined) {
        if (fingerprints.size >= FINGERPRINTS_KEPT) fingerprints.clear();
        f = options.redactor.fingerprint(secret);
        fingerprints.set(secret, f);
      }
      return f;
    };
    this.state = initialState({
      capturedBy: options.capturedBy ?? 'proxy',
      ...(options.sealAfterMs !== undefined ? { sealAfterMs: options.sealAfterMs } : {}),
      ...(options.accountIdleMs !== undefined ? { accountIdleMs: options.accountIdleMs } : {}),
      ...(options.runIdleMs !== undefined ? { runIdleMs: options.runIdleMs } : {}),
      ...(options.rgsSessionTtlMs !== undefined ? { rgsTtlMs: options.rgsSessionTtlMs } : {}),
      ...(options.writer ? { writer: options.writer } : {}),
    });
    // rewind_live_captures: the capture tasks (spectators, pollers) whose stream is open and not ended, read when scraped.
    this.unregisterMetrics = liveCaptureSources.add(() => {
      let n = 0;
      for (const st of this.state.streams.values()) if (st.kind === 'task' && st.status === 'open') n++;
      return n;
    });
  }

  capture(fact: CapturedFact): void {
    if (this.state.closed) return;
    this.counters.facts++;
    try {
      const event = this.encoder.encode(fact);
      const signal = fact.type === 'ws-message' && typeof fact.data === 'string' ? inspectWsMessage(fact.platform, fact.direction === 'client_to_platform', fact.data) : undefined;
      // One literal per message either way (a spread of a conditional object was two more per message).
      this.run(
        signal
          ? { type: 'CaptureFact', fact, event, signal, fingerprint: this.fingerprint, newId: this.newId }
          : { type: 'CaptureFact', fact, event, fingerprint: this.fingerprint, newId: this.newId },
      );
    } catch (e) {
      // A bug must not break forwarding: count it and say so (the message names no secret: facts are not printed).
      this.counters.failures++;
      this.log.error(`recorder: could not record a ${fact.type} fact of ${fact.platform} ${fact.connectionId}: ${(e as Error).message}`);
    }
  }

  /** The sink's `released`: both legs of a proxied socket whose close said `draining` are done (its run may seal). */
  released(connectionId: string): void {
    if (this.state.closed) return;
    try {
      this.run({ type: 'SocketReleased', connectionId });
    } catch (e) {
      this.counters.failures++;
      this.log.error(`recorder: could not release socket ${connectionId}: ${(e as Error).message}`);
    }
  }

  /**
   * The sink's `flush`: what was recorded in this event-loop turn is written to the Ingest's write-ahead log now
   * (one synchronous write; nothing when nothing is pending). The proxy calls it before it relays a turn's
   * messages, so a message is in the log before it is relayed, as when the log wrote each item on its own.
   */
  flush(): void {
    try {
      this.ingest.flushWriteAhead();
    } catch (e) {
      // The log says its own disk errors and goes on without itself; anything else must not break forwarding either.
      this.counters.failures++;
      this.log.error(`recorder: could not write the write-ahead log: ${(e as Error).message}`);
    }
  }

  stats(): { facts: number; events: number; failures: number; streamsOpened: number; runsEnded: number; openStreams: number; connections: number } {
    return { ...this.counters, openStreams: this.state.streams.size, connections: this.state.connections.size };
  }

  /** The streams this recorder opened (the last 90–100k), in order; keys are safe: fingerprints, never secrets. */
  openedStreams(): readonly { id: string; platform: Platform; key: string; kind: 'run' | 'account' | 'task' }[] {
    return this.opened;
  }

  /** The Rewind session id of a run's stream, if it is open in this recorder (tests, tools). */
  sessionOf(platform: Platform, key: string): string | null {
    const resolved = this.state.aliases.get(refOf(platform, key)) ?? key;
    return this.state.streams.get(refOf(platform, resolved))?.id ?? null;
  }

  /**
   * A stream for a capture task (spectator, poller): its id derives from the task id, so whoever runs the
   * task (this process or another after a take-over) continues the same stream from its stored head.
   */
  async openTaskStream(offer: TaskOffer, identity: StreamIdentity): Promise<TaskStream> {
    const id = uuidFrom(`rewind-task:${offer.id}`);
    const ref = refOf(offer.platform, `task:${offer.id}`);
    // The same task run again here (its job re-run after a lost lock) while the earlier attempt has not
    // returned yet, or its ended stream still waits to seal: the new attempt owns the stream from now on. The
    // earlier one stops recording into it (two spectate sockets interleaving frames in one stream) and its
    // timer would seal under the new one's feet. Claimed before the resume, which settles what it recorded.
    const attempt = ++this.attempts;
    this.run({ type: 'ClaimTaskStream', ref, attempt });
    const metadata: Record<string, unknown> = {
      stream: 'run',
      capturedBy: taskCapturer(offer.kind),
      ...(this.options.writer ? { writer: this.options.writer } : {}),
      task: offer.kind,
      taskId: offer.id,
    };
    const session: NewSession = {
      id,
      platform: offer.platform,
      game: identity.game ?? null,
      platformSessionId: identity.platformSessionId ?? null,
      agent: identity.agent ?? null,
      source: identity.source ?? null,
      startedAt: new Date(this.now()),
      metadata,
    };
    let resumed: TaskStream['resumed'];
    try {
      const nextSeq = await this.ingest.resumeSession(session);
      resumed = nextSeq > 1 ? await this.resumedInfo(id, nextSeq - 1) : undefined;
    } catch (e) {
      this.run({ type: 'AbandonTaskClaim', ref, attempt });
      throw e;
    }
    this.run({ type: 'OpenTaskStream', offer, identity, sessionId: id, attempt, metadata });
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handle's methods are plain methods of the object it returns
    const self = this;
    const owns = (): boolean => self.state.tasks.get(ref) === attempt && !self.state.closed;
    return {
      sessionId: id,
      resumed,
      capture(fact: CapturedFact): void {
        if (!owns()) return;
        try {
          const event = self.encoder.encode(fact);
          const signal = fact.type === 'ws-message' && typeof fact.data === 'string' && fact.direction === 'platform_to_client' ? inspectWsMessage(fact.platform, false, fact.data) : undefined;
          const held = { event, atNs: fact.atNs, wallUs: fact.wallUs };
          self.run(signal ? { type: 'CaptureTaskFact', ref, attempt, held, signal } : { type: 'CaptureTaskFact', ref, attempt, held });
        } catch (e) {
          self.counters.failures++;
          self.log.error(`recorder: could not record a task fact (${offer.kind}): ${(e as Error).message}`);
        }
      },
      end(signal: EndSignal): void {
        self.run({ type: 'EndTaskStream', ref, attempt, signal });
      },
      release(): void {
        self.run({ type: 'ReleaseTaskStream', ref, attempt });
      },
    };
  }

  /**
   * Records what is held (so nothing is lost), marks every run still open with a `capture-stopped` marker
   * (its capture ends here, not the run), and stops taking facts. Runs stay open in the store.
   */
  close(): void {
    if (this.state.closed) return;
    this.unregisterMetrics();
    try {
      this.run({ type: 'CloseRecorder', newId: this.newId });
    } finally {
      for (const t of this.timers.values()) clearTimeout(t.handle);
      this.timers.clear();
    }
  }

  // ——— the adapter ———

  /** Decides, keeps the folded state, then carries the effects out (all of them; the first failure is thrown). */
  private run(command: LifecycleCommand): void {
    // The state is this adapter's alone (nothing keeps an earlier one): the decider may fold into it in place.
    const { events, effects, state } = decideAndFold(command, this.state, this.now(), OWNED);
    this.state = state;
    for (const e of events) {
      if (e.type === 'EventRecorded') this.counters.events++;
      else if (e.type === 'RunEnded') this.counters.runsEnded++;
      else if (e.type === 'StreamOpened') this.noteOpened(e.stream.id, e.stream.platform, e.stream.key, e.stream.kind);
    }
    let failure: unknown;
    for (const effect of effects) {
      try {
        this.apply(effect);
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== undefined) throw failure;
  }

  private apply(effect: LifecycleEffect): void {
    switch (effect.type) {
      case 'openSession':
        this.ingest.openSession(effect.session, effect.startNs !== undefined ? { startNs: effect.startNs } : {});
        return;
      case 'record':
        this.ingest.record(effect.sessionId, effect.input, effect.outbox ? { outbox: effect.outbox } : NO_OUTBOX);
        return;
      case 'endSession':
        if (effect.outcome !== undefined) this.ingest.endSession(effect.sessionId, effect.endedAt, effect.outcome);
        else this.ingest.endSession(effect.sessionId, effect.endedAt);
        return;
      case 'sealSession':
        this.ingest.sealSession(effect.sessionId);
        return;
      case 'releaseSession':
        this.ingest.releaseSession(effect.sessionId);
        return;
      case 'offerTask':
        this.options.onTask?.(effect.offer);
        return;
      case 'credential':
        this.options.onCredential?.(effect.runKey, effect.credential);
        return;
      case 'activity':
        this.options.onActivity?.(effect.runKey, effect.atMs);
        return;
      case 'setTimer':
        this.setTimer(effect.ref, effect.atMs);
        return;
      case 'clearTimer': {
        const t = this.timers.get(effect.ref);
        if (t) clearTimeout(t.handle);
        this.timers.delete(effect.ref);
        return;
      }
      case 'log':
        this.log.info(effect.message);
        return;
    }
  }

  private noteOpened(id: string, platform: Platform, key: string, kind: StreamKind): void {
    if (kind !== 'task') this.counters.streamsOpened++;
    this.opened.push({ id, platform, key: safeIdOf(key), kind: kind === 'after-run' ? 'account' : kind });
    if (this.opened.length > 100_000) this.opened.splice(0, 10_000);
  }

  /**
   * The one real timer of a stream. A stream's due time moves on with every event; rather than re-arming on
   * each, a timer already set to fire earlier is kept: when it fires before the due time, the decider says so
   * and this arms the later one.
   */
  private setTimer(ref: string, atMs: number): void {
    if (this.state.closed) return;
    const armed = this.timers.get(ref);
    if (armed && armed.atMs <= atMs) return;
    if (armed) clearTimeout(armed.handle);
    const handle = setTimeout(
      () => {
        if (this.timers.get(ref)?.handle === handle) this.timers.delete(ref);
        const stream = this.state.streams.get(ref);
        try {
          this.run({ type: 'TimerDue', ref });
        } catch (e) {
          // A timer's failure must not take the process (and every capture it holds) down: count it and say so.
          this.counters.failures++;
          this.log.error(`recorder: could not ${stream?.status === 'ended' ? 'seal' : 'end'} ${stream?.platform ?? ''} stream ${stream?.id ?? ref}: ${(e as Error).message}`);
        }
      },
      Math.max(0, Math.min(atMs - this.now(), 2 ** 31 - 1)),
    );
    handle.unref();
    this.timers.set(ref, { handle, atMs });
  }

  private async resumedInfo(sessionId: string, lastSeq: number): Promise<ResumedStream> {
    let lastTick: number | null = null;
    let lastSeenAtMs = 0;
    for await (const e of this.options.store.readSession(sessionId, { fromSeq: Math.max(1, lastSeq - 500), toSeq: lastSeq })) {
      if (e.kind === 'frame' && e.tick !== null) lastTick = e.tick;
      lastSeenAtMs = Math.floor(e.recordedAtUs / 1000);
    }
    return { lastSeq, lastTick, lastSeenAtMs };
  }
}

function taskCapturer(kind: unknown): string {
  return kind === 'moltstation-spectate' ? 'spectator' : 'poller';
}

/** A stable uuid (v5-shaped, from SHA-256) for a name. */
export function uuidFrom(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
