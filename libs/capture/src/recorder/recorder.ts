import { createHash, randomUUID } from 'node:crypto';
import type { EventStore, NewOutboxMessage, Platform } from '@rewind/event-store';
import type { CapturedFact, CaptureSink, HttpRequestFact, WsOpenFact } from '../captured';
import type { Ingest, RecordInput } from '../ingest';
import { FactEncoder, type EncodedEvent } from '../pipeline';
import type { Redactor } from '../redaction';
import type { CaptureTaskLogger, ResumedStream } from '../tasks';
import {
  attributeHttp,
  attributeWs,
  EndSignal,
  inspectWsMessage,
  LearnedCredential,
  moltstationOutcome,
  StreamIdentity,
} from './attribution';

/** A capture task the recorder wants run for a run it saw start (see the scale-out coordinator). */
export interface TaskOffer {
  /** Deterministic: `<platform>.<kind>.<run key>` (see `taskId`); the task's stream id derives from it. */
  id: string;
  kind: 'moltstation-spectate' | 'cloudplay-poll' | 'rgs-poll';
  platform: Platform;
  /** The run's stream key (e.g. `session:<id>`), for credential look-ups. */
  runKey: string;
  platformSessionId: string | null;
  params: Record<string, unknown>;
}

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

interface Held {
  event: EncodedEvent;
  atNs: bigint;
  wallUs: number;
}

interface Stream {
  id: string;
  platform: Platform;
  key: string;
  kind: 'run' | 'account' | 'task';
  identity: StreamIdentity;
  aliases: Set<string>;
  lastActivityMs: number;
  ended: boolean;
  finalFrame: Record<string, unknown> | null;
  logout: boolean;
  expiresAtMs: number | null;
  events: number;
  timer: NodeJS.Timeout | null;
  previous: string | null;
}

interface Connection {
  platform: Platform;
  streamKey: string | null;
  /** Events waiting for their stream to be known (an HTTP request until its response; a SpaceMolt socket until its login). */
  held: Held[];
  request?: HttpRequestFact;
  ws?: WsOpenFact;
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

const HOLD_LIMIT = 64;

/**
 * Turns captured facts into sessions of the event log: per platform it decides which stream (run or
 * account) each fact belongs to, encodes it (redacted), records it through the Ingest, and follows each
 * run's lifecycle — opened on its first event, ended on the platform's end signal with an `outcome` event
 * and the outbox rows for snapshot submission and reward handoff (same transaction), sealed after a grace
 * period for late events. See docs/capture/recorder.md.
 *
 * `capture` is the recording proxy's sink: synchronous, never throws, never waits on storage.
 */
export class Recorder implements CaptureSink {
  private readonly encoder: FactEncoder;
  private readonly ingest: Ingest;
  private readonly log: CaptureTaskLogger;
  private readonly capturedBy: string;
  private readonly sealAfterMs: number;
  private readonly accountIdleMs: number;
  private readonly runIdleMs: number;
  private readonly rgsTtlMs: number;
  private readonly now: () => number;
  private readonly streams = new Map<string, Stream>();
  /** `<platform>|<alias>` → primary key. */
  private readonly aliases = new Map<string, string>();
  private readonly connections = new Map<string, Connection>();
  /** HTTP exchanges recently attributed → their stream key (for late notes about them); bounded. */
  private readonly finished = new Map<string, string>();
  /**
   * WebSockets recently closed → their stream (bounded): a message that crossed the close (an agent's input
   * sent while the platform's close was on its way, recorded by the proxy as undelivered) joins its run.
   */
  private readonly closedSockets = new Map<string, { platform: Platform; key: string }>();
  /** The running attempt of each capture task here: retires it when the task is run again (see openTaskStream). */
  private readonly retireTask = new Map<string, () => void>();
  /** Runs sealed here recently: `<platform>|<key>` → their stream id (bounded), for after-run traffic. */
  private readonly sealedRuns = new Map<string, string>();
  private readonly counters = { facts: 0, events: 0, failures: 0, streamsOpened: 0, runsEnded: 0 };
  private closed = false;
  private readonly opened: { id: string; platform: Platform; key: string; kind: Stream['kind'] }[] = [];

  constructor(private readonly options: RecorderOptions) {
    this.encoder = new FactEncoder(options.redactor);
    this.ingest = options.ingest;
    this.log = options.log;
    this.capturedBy = options.capturedBy ?? 'proxy';
    this.sealAfterMs = options.sealAfterMs ?? 10_000;
    this.accountIdleMs = options.accountIdleMs ?? 60_000;
    this.runIdleMs = options.runIdleMs ?? 30 * 60_000;
    this.rgsTtlMs = options.rgsSessionTtlMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
  }

  capture(fact: CapturedFact): void {
    if (this.closed) return;
    this.counters.facts++;
    try {
      this.handle(fact);
    } catch (e) {
      // A bug must not break forwarding: count it and say so (the message names no secret: facts are not printed).
      this.counters.failures++;
      this.log.error(`recorder: could not record a ${fact.type} fact of ${fact.platform} ${fact.connectionId}: ${(e as Error).message}`);
    }
  }

  stats(): { facts: number; events: number; failures: number; streamsOpened: number; runsEnded: number; openStreams: number; connections: number } {
    return { ...this.counters, openStreams: this.streams.size, connections: this.connections.size };
  }

  /** The streams this recorder opened (the last 90–100k), in order; keys are safe: fingerprints, never secrets. */
  openedStreams(): readonly { id: string; platform: Platform; key: string; kind: 'run' | 'account' | 'task' }[] {
    return this.opened;
  }

  /** The Rewind session id of a run's stream, if it is open in this recorder (tests, tools). */
  sessionOf(platform: Platform, key: string): string | null {
    return this.streams.get(this.streamKey(platform, key))?.id ?? null;
  }

  /**
   * A stream for a capture task (spectator, poller): its id derives from the task id, so whoever runs the
   * task (this process or another after a take-over) continues the same stream from its stored head.
   */
  async openTaskStream(offer: TaskOffer, identity: StreamIdentity): Promise<TaskStream> {
    const id = uuidFrom(`rewind-task:${offer.id}`);
    const session = this.newSession(id, offer.platform, identity, 'task', { task: offer.kind, taskId: offer.id });
    const nextSeq = await this.ingest.resumeSession(session);
    const resumed = nextSeq > 1 ? await this.resumedInfo(id, nextSeq - 1) : undefined;
    const stream: Stream = this.newStream(id, offer.platform, `task:${offer.id}`, 'task', identity, null);
    const key = this.streamKey(offer.platform, stream.key);
    // The same task run again here (its job re-run after a lost lock) while the earlier attempt has not
    // returned yet, or its ended stream still waits to seal: the new attempt owns the stream from now on. The
    // earlier one stops recording into it (two spectate sockets interleaving frames in one stream) and its
    // timer would seal under the new one's feet.
    this.retireTask.get(key)?.();
    const earlier = this.streams.get(key);
    if (earlier?.timer) clearTimeout(earlier.timer);
    this.streams.set(key, stream);
    this.opened.push({ id, platform: offer.platform, key: safeId(stream.key), kind: 'task' });
    let released = false;
    const retire = (): void => {
      released = true;
    };
    this.retireTask.set(key, retire);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handle's methods are plain methods of the object it returns
    const self = this;
    return {
      sessionId: id,
      resumed,
      capture(fact: CapturedFact): void {
        if (released || self.closed) return;
        try {
          const event = self.encoder.encode(fact);
          self.recordInto(stream, { event, atNs: fact.atNs, wallUs: fact.wallUs });
          if (fact.type === 'ws-message' && typeof fact.data === 'string' && fact.direction === 'platform_to_client') {
            const signal = inspectWsMessage(fact.platform, false, fact.data);
            if (signal.finalFrame) stream.finalFrame = signal.finalFrame;
          }
        } catch (e) {
          self.counters.failures++;
          self.log.error(`recorder: could not record a task fact (${offer.kind}): ${(e as Error).message}`);
        }
      },
      end(signal: EndSignal): void {
        if (released) return;
        const outcome = offer.platform === 'moltstation' ? { ...moltstationOutcome(stream.finalFrame, signal.reason), ...signal.outcome } : signal.outcome;
        self.endStream(stream, { reason: signal.reason, outcome });
      },
      release(): void {
        released = true;
        if (self.retireTask.get(key) !== retire) return; // retired: a newer attempt owns the stream
        self.retireTask.delete(key);
        if (stream.timer) clearTimeout(stream.timer);
        self.streams.delete(key);
      },
    };
  }

  /**
   * Records what is held (so nothing is lost), marks every run still open with a `capture-stopped` marker
   * (its capture ends here, not the run), and stops taking facts. Runs stay open in the store.
   */
  close(): void {
    if (this.closed) return;
    for (const [id, conn] of this.connections) {
      if (conn.held.length > 0) this.flushHeld(id, conn, conn.streamKey ?? this.fallbackKey(conn));
    }
    const wallUs = this.now() * 1000;
    for (const s of this.streams.values()) {
      if (s.ended || s.kind === 'task') continue;
      this.ingest.record(s.id, { ...captureStopped({ reason: 'recorder-stopped' }), wallUs });
    }
    this.closed = true;
    for (const s of this.streams.values()) if (s.timer) clearTimeout(s.timer);
  }

  // ——— facts ———

  private handle(fact: CapturedFact): void {
    const event = this.encoder.encode(fact);
    const held: Held = { event, atNs: fact.atNs, wallUs: fact.wallUs };
    switch (fact.type) {
      case 'ws-open': {
        const { identity } = attributeWs(fact.platform, fact.path, fact.connectionId);
        const conn: Connection = { platform: fact.platform, streamKey: null, held: [held], ws: fact };
        this.connections.set(fact.connectionId, conn);
        // A SpaceMolt socket is held until its login names the agent (or a few messages went by).
        if (fact.platform !== 'spacemolt') this.bind(fact.connectionId, conn, identity);
        return;
      }
      case 'ws-message': {
        const late = this.connections.has(fact.connectionId) ? undefined : this.closedSockets.get(fact.connectionId);
        const lateStream = late ? this.stream(late.platform, late.key) : undefined;
        if (lateStream) {
          this.recordInto(lateStream, held);
          return;
        }
        const conn = this.connection(fact.connectionId, fact.platform);
        const signal = typeof fact.data === 'string' ? inspectWsMessage(fact.platform, fact.direction === 'client_to_platform', fact.data) : {};
        if (!conn.streamKey) {
          conn.held.push(held);
          if (signal.agent || conn.held.length >= HOLD_LIMIT || fact.direction === 'client_to_platform') {
            const identity = attributeWs(fact.platform, conn.ws?.path ?? '', fact.connectionId).identity;
            this.bind(fact.connectionId, conn, { ...identity, ...(signal.agent ? { agent: signal.agent } : {}) });
          }
        } else {
          this.recordKey(conn.platform, conn.streamKey, held);
        }
        const stream = conn.streamKey ? this.stream(conn.platform, conn.streamKey) : undefined;
        if (stream) {
          if (signal.finalFrame) stream.finalFrame = signal.finalFrame;
          if (signal.logout) stream.logout = true;
        }
        return;
      }
      case 'ws-close': {
        const conn = this.connection(fact.connectionId, fact.platform);
        this.connections.delete(fact.connectionId);
        const key = conn.streamKey ?? this.fallbackKey(conn);
        remember(this.closedSockets, fact.connectionId, { platform: conn.platform, key }, 1000);
        conn.held.push(held);
        this.flushHeld(fact.connectionId, conn, key);
        const stream = this.stream(conn.platform, key);
        if (!stream || stream.ended) return;
        if (conn.platform === 'moltstation' && (stream.finalFrame || fact.reason === 'GAME_OVER' || fact.reason === 'EXIT')) {
          this.endStream(stream, { reason: fact.reason || 'ended', outcome: moltstationOutcome(stream.finalFrame, fact.reason || null) });
        } else if (conn.platform === 'spacemolt') {
          const reason = stream.logout ? 'logout' : 'close';
          this.endStream(stream, { reason, outcome: { reason, closeCode: fact.code, closeReason: fact.reason, initiator: fact.initiator, agent: stream.identity.agent ?? null } });
        }
        return;
      }
      case 'http-request':
        this.connections.set(fact.connectionId, { platform: fact.platform, streamKey: null, held: [held], request: fact });
        return;
      case 'http-response':
      case 'proxy-error': {
        const conn = this.connections.get(fact.connectionId);
        if (conn?.ws) {
          // An error on a proxied socket: it belongs to the socket's stream.
          if (conn.streamKey) this.recordKey(conn.platform, conn.streamKey, held);
          else conn.held.push(held);
          return;
        }
        const request = conn?.request;
        if (!request) {
          // A late note of an exchange already attributed (e.g. a truncated response body): same stream.
          const done = this.finished.get(fact.connectionId);
          this.recordKey(fact.platform, done ?? 'account:anonymous', held, { key: done ?? 'account:anonymous' });
          return;
        }
        if (fact.type === 'proxy-error' && fact.terminal === false) {
          (conn as Connection).held.push(held);
          return;
        }
        this.connections.delete(fact.connectionId);
        const key = this.exchange(request, fact.type === 'http-response' ? fact : null, [...(conn?.held ?? []), held]);
        remember(this.finished, fact.connectionId, key, 1000);
        return;
      }
      case 'note':
        // Notes come from capture tasks through their own streams; a note on the proxy's sink has no run.
        this.recordKey(fact.platform, 'account:anonymous', held, { key: 'account:anonymous' });
        return;
    }
  }

  private exchange(request: HttpRequestFact, response: Extract<CapturedFact, { type: 'http-response' }> | null, held: Held[]): string {
    const a = attributeHttp(
      {
        platform: request.platform,
        method: request.method,
        path: request.path,
        requestHeaders: request.headers,
        requestBody: request.body,
        ...(response ? { status: response.status, responseBody: response.body } : {}),
      },
      (s) => this.options.redactor.fingerprint(s),
    );
    const platform = request.platform;
    const key = this.resolve(platform, a.identity.key);
    for (const h of held) this.recordKey(platform, key, h, a.identity);
    const stream = this.stream(platform, key);
    if (!stream) return key;
    for (const alias of a.aliases) {
      this.aliases.set(this.streamKey(platform, alias), key);
      stream.aliases.add(alias);
    }
    for (const c of a.credentials) this.options.onCredential?.(key, { ...c, key });
    if (a.task && stream.kind === 'run') {
      this.options.onTask?.({
        id: taskId(platform, a.task.kind, key),
        kind: a.task.kind,
        platform,
        runKey: key,
        platformSessionId: stream.identity.platformSessionId ?? null,
        params: a.task.params,
      });
    }
    if (stream.kind === 'run') this.options.onActivity?.(key, this.now());
    if (platform === 'rgs' && stream.kind === 'run') {
      const now = this.now();
      if (a.expiresAtMs !== undefined) stream.expiresAtMs = a.expiresAtMs;
      if (a.activity) stream.expiresAtMs = Math.max(stream.expiresAtMs ?? 0, now + this.rgsTtlMs);
      if (stream.key.startsWith('token:') && !stream.aliases.has('poll-offered')) {
        // A run first seen by its token (the launch went around the proxy): its poller is keyed by the stream.
        stream.aliases.add('poll-offered');
        this.options.onTask?.({ id: taskId('rgs', 'rgs-poll', key), kind: 'rgs-poll', platform, runKey: key, platformSessionId: null, params: {} });
        const bearer = /^Bearer\s+(\S+)/i.exec(request.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '')?.[1];
        if (bearer) this.options.onCredential?.(key, { key, name: 'sessionToken', value: bearer });
      }
      this.armTimer(stream);
    }
    if (a.end && stream.kind === 'run') this.endStream(stream, a.end);
    return key;
  }

  // ——— streams ———

  private bind(connectionId: string, conn: Connection, identity: StreamIdentity): void {
    const key = this.resolve(conn.platform, identity.key);
    conn.streamKey = key;
    this.ensureStream(conn.platform, key, identity, conn.held[0]?.wallUs);
    this.flushHeld(connectionId, conn, key);
  }

  private flushHeld(_connectionId: string, conn: Connection, key: string): void {
    const held = conn.held.splice(0);
    for (const h of held) this.recordKey(conn.platform, key, h, { key });
  }

  private fallbackKey(conn: Connection): string {
    const identity = conn.ws ? attributeWs(conn.platform, conn.ws.path, conn.ws.connectionId).identity : { key: 'account:anonymous' };
    return this.resolve(conn.platform, identity.key);
  }

  private connection(connectionId: string, platform: Platform): Connection {
    let conn = this.connections.get(connectionId);
    if (!conn) {
      // A message of a connection opened before this recorder started: it gets a stream of its own.
      conn = { platform, streamKey: null, held: [] };
      this.connections.set(connectionId, conn);
      conn.streamKey = `connection:${connectionId}`;
      this.ensureStream(platform, conn.streamKey, { key: conn.streamKey }, undefined);
    }
    return conn;
  }

  private recordKey(platform: Platform, key: string, held: Held, identity?: StreamIdentity): void {
    const stream = this.ensureStream(platform, key, identity ?? { key }, held.wallUs);
    this.recordInto(stream, held);
  }

  private recordInto(stream: Stream, held: Held): void {
    this.ingest.record(stream.id, { ...held.event, atNs: held.atNs, wallUs: held.wallUs });
    stream.events++;
    this.counters.events++;
    stream.lastActivityMs = this.now();
    if (stream.kind !== 'task') this.armTimer(stream);
  }

  private ensureStream(platform: Platform, key: string, identity: StreamIdentity, wallUs: number | undefined): Stream {
    const existing = this.stream(platform, key);
    if (existing) {
      // Later facts may name what the first did not (the game, the agent).
      if (!existing.identity.game && identity.game) existing.identity.game = identity.game;
      if (!existing.identity.agent && identity.agent) existing.identity.agent = identity.agent;
      return existing;
    }
    // Traffic about a run this recorder already ended and sealed (an agent asking for its rewards snapshot or
    // polling a stopped session after the grace period) goes to an "after-run" stream: recorded, attributed to
    // the run (same platform session), sealed once quiet like an account stream; it never ends the run again.
    const sealedRun = key.startsWith('account:') ? undefined : this.sealedRuns.get(this.streamKey(platform, key));
    const kind: Stream['kind'] = key.startsWith('account:') || sealedRun ? 'account' : 'run';
    const id = randomUUID();
    const stream = this.newStream(id, platform, key, kind, identity, sealedRun ?? null);
    const startedAt = new Date(Math.floor((wallUs ?? this.now() * 1000) / 1000));
    const extra = sealedRun ? { key: safeId(key), stream: 'after-run', previous: sealedRun } : { key: safeId(key) };
    this.ingest.openSession({ ...this.newSession(id, platform, identity, kind, extra), startedAt });
    this.streams.set(this.streamKey(platform, key), stream);
    this.counters.streamsOpened++;
    this.opened.push({ id, platform, key: safeId(key), kind });
    if (this.opened.length > 100_000) this.opened.splice(0, 10_000);
    return stream;
  }

  private newSession(id: string, platform: Platform, identity: StreamIdentity, kind: Stream['kind'], extra: Record<string, unknown>) {
    return {
      id,
      platform,
      game: identity.game ?? null,
      platformSessionId: identity.platformSessionId ?? null,
      agent: identity.agent ?? null,
      source: identity.source ?? null,
      startedAt: new Date(this.now()),
      metadata: {
        stream: kind === 'task' ? 'run' : kind,
        capturedBy: kind === 'task' ? taskCapturer(extra['task']) : this.capturedBy,
        // The process that opened the stream (a task's stream may be continued by whoever takes the task over).
        ...(this.options.writer ? { writer: this.options.writer } : {}),
        ...extra,
      },
    };
  }

  private newStream(id: string, platform: Platform, key: string, kind: Stream['kind'], identity: StreamIdentity, previous: string | null): Stream {
    return {
      id,
      platform,
      key,
      kind,
      identity: { ...identity },
      aliases: new Set(),
      lastActivityMs: this.now(),
      ended: false,
      finalFrame: null,
      logout: false,
      expiresAtMs: null,
      events: 0,
      timer: null,
      previous,
    };
  }

  private endStream(stream: Stream, signal: EndSignal): void {
    if (stream.ended) return;
    stream.ended = true;
    this.counters.runsEnded++;
    const platform = stream.platform;
    const outcome: Record<string, unknown> = { platform, game: stream.identity.game ?? null, platformSessionId: stream.identity.platformSessionId ?? null, agent: stream.identity.agent ?? null, ...signal.outcome, reason: signal.reason };
    const run = stream.identity.platformSessionId ? `${platform}:${stream.identity.platformSessionId}` : `${platform}:${stream.id}`;
    const payload = { sessionId: stream.id, platform, game: stream.identity.game ?? null, platformSessionId: stream.identity.platformSessionId ?? null, agent: stream.identity.agent ?? null, source: stream.identity.source ?? null, outcome };
    // One snapshot, one handoff and one audit per platform run, whichever of its streams (proxy, spectator, poller) ends first.
    const outbox: NewOutboxMessage[] = [
      { queue: 'snapshot-submission', jobName: 'snapshot', payload, dedupeKey: `snapshot-submission:${run}` },
      { queue: 'reward-handoff', jobName: 'reward', payload, dedupeKey: `reward-handoff:${run}` },
      { queue: 'run-audit', jobName: 'audit', payload, dedupeKey: `run-audit:${run}` },
    ];
    this.ingest.record(
      stream.id,
      { kind: 'outcome', direction: 'internal', channel: 'internal', format: 'json', body: JSON.stringify(outcome), msgType: 'outcome', tick: typeof outcome['tick'] === 'number' ? (outcome['tick'] as number) : null, requestId: null },
      { outbox },
    );
    stream.events++;
    this.ingest.endSession(stream.id, new Date(this.now()), outcome);
    this.log.info(`recorder: ${platform} run ${stream.id} ended (${signal.reason}); sealing in ${this.sealAfterMs} ms`);
    this.armTimer(stream);
  }

  private seal(stream: Stream): void {
    if (stream.timer) clearTimeout(stream.timer);
    stream.timer = null;
    if (stream.kind === 'run') {
      for (const k of [stream.key, ...stream.aliases]) remember(this.sealedRuns, this.streamKey(stream.platform, k), stream.id, 10_000);
    }
    this.streams.delete(this.streamKey(stream.platform, stream.key));
    if (stream.kind === 'task') this.retireTask.delete(this.streamKey(stream.platform, stream.key));
    for (const alias of stream.aliases) this.aliases.delete(this.streamKey(stream.platform, alias));
    for (const [id, conn] of this.connections) if (conn.streamKey === stream.key && conn.platform === stream.platform) this.connections.delete(id);
    this.ingest.sealSession(stream.id);
  }

  /** One timer per stream: seal after the grace period, end an idle account or run, end an expired RGS run. */
  private armTimer(stream: Stream): void {
    if (this.closed) return;
    if (stream.timer) clearTimeout(stream.timer);
    const now = this.now();
    let due: number;
    let action: () => void;
    if (stream.ended) {
      due = stream.lastActivityMs + this.sealAfterMs;
      action = () => this.seal(stream);
    } else if (stream.kind === 'account') {
      due = stream.lastActivityMs + this.accountIdleMs;
      action = () => {
        stream.ended = true;
        this.ingest.endSession(stream.id, new Date(this.now()));
        this.seal(stream);
      };
    } else if (stream.expiresAtMs !== null && stream.expiresAtMs < stream.lastActivityMs + this.runIdleMs) {
      due = stream.expiresAtMs;
      action = () => this.endStream(stream, { reason: 'expired', outcome: { reason: 'expired', observedBy: 'clock', expiresAt: new Date(stream.expiresAtMs ?? 0).toISOString() } });
    } else {
      due = stream.lastActivityMs + this.runIdleMs;
      action = () => this.endStream(stream, { reason: 'idle', outcome: { reason: 'idle', idleMs: this.runIdleMs } });
    }
    stream.timer = setTimeout(() => {
      stream.timer = null;
      if (this.closed) return;
      if (this.now() + 5 < due) return this.armTimer(stream);
      try {
        action();
      } catch (e) {
        // A timer's failure must not take the process (and every capture it holds) down: count it and say so.
        this.counters.failures++;
        this.log.error(`recorder: could not ${stream.ended ? 'seal' : 'end'} ${stream.platform} stream ${stream.id}: ${(e as Error).message}`);
      }
    }, Math.max(0, Math.min(due - now, 2 ** 31 - 1)));
    stream.timer.unref();
  }

  private stream(platform: Platform, key: string): Stream | undefined {
    return this.streams.get(this.streamKey(platform, this.resolve(platform, key)));
  }

  private resolve(platform: Platform, key: string): string {
    return this.aliases.get(this.streamKey(platform, key)) ?? key;
  }

  private streamKey(platform: Platform, key: string): string {
    return `${platform}|${key}`;
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

/** The `capture-stopped` marker: the capture of a stream ended here (not necessarily its run); `detail` says why. */
export function captureStopped(detail: Record<string, unknown>): RecordInput {
  return { kind: 'marker', direction: 'internal', channel: 'internal', format: 'json', body: JSON.stringify(detail), msgType: 'capture-stopped' };
}

/** Sets `key` in a map kept to its `max` newest entries (insertion order: the oldest goes first). */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as K);
}

function taskCapturer(kind: unknown): string {
  return kind === 'moltstation-spectate' ? 'spectator' : 'poller';
}

/** A key as a safe id: fingerprints keep their hex, other characters outside [A-Za-z0-9._:-] become `_`. */
export function safeId(key: string): string {
  return key.replace(/\[redacted:([0-9a-f]+)\]/g, 'fp-$1').replace(/[^A-Za-z0-9._:-]/g, '_');
}

/** A task's id: the same in every process for the same run; safe as a BullMQ job id (no `:`). */
export function taskId(platform: Platform, kind: TaskOffer['kind'], runKey: string): string {
  return `${platform}.${kind}.${safeId(runKey).replace(/:/g, '.')}`;
}

/** A stable uuid (v5-shaped, from SHA-256) for a name. */
export function uuidFrom(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
