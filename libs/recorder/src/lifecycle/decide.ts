import type { NewOutboxMessage, NewSession, Platform } from '@rewind/event-store';
import { attributeHttp, attributeWs, platformOf, type CaptureTaskKind, type EndSignal, type StreamIdentity, type WsMessageSignal } from '@rewind/platforms';
import type { CapturedFact, HttpRequestFact } from '@rewind/capture-facts';
import type { RecordInput } from '@rewind/ingest';
import { evolve, evolveOwned, refOf } from './evolve';
import { recall } from './pmap';
import type { CaptureFact, ConnectionState, Decision, Held, LifecycleCommand, LifecycleEffect, LifecycleEvent, LifecycleState, StreamKind, StreamState, TimerAction } from './types';

/**
 * The run lifecycle as a decider: what a command means given the state and the time, as domain events (which
 * `evolve` folds into the state) and the effects the adapter carries out (Ingest calls, tasks, credentials,
 * timers). Pure: the clock (`now`, ms) and the ids come in; nothing here reads a clock, draws a random
 * number, touches a socket or a store. See docs/capture/recorder.md, "The lifecycle decider".
 */
export function decide(command: LifecycleCommand, state: LifecycleState, now: number): Decision {
  const { events, effects } = decideAndFold(command, state, now);
  return { events, effects };
}

/**
 * `decide`, and the state its events fold into (what `events.reduce(evolve, state)` gives: the decider folds
 * each event as it goes, to decide the next; the adapter takes that state rather than folding twice).
 *
 * With `owned`, the caller hands `state` over: it keeps no reference to it (nor to anything read from it) and
 * takes the returned state instead. The fold may then update the state in place (`evolveOwned`: a recorded
 * message's stream entry, without copying maps), which is what the Recorder does for every captured message.
 * The events, effects and the state's content are the same as without it; only the given state is not kept.
 */
export function decideAndFold(command: LifecycleCommand, state: LifecycleState, now: number, options?: { owned?: boolean }): Decision & { state: LifecycleState } {
  const d = new Draft(state, now, options?.owned === true ? evolveOwned : evolve);
  decideInto(d, command);
  return { events: d.events, effects: d.effects, state: d.s };
}

function decideInto(d: Draft, command: LifecycleCommand): void {
  const state = d.s;
  const now = d.now;
  // A closed recorder takes no more facts and fires no timer; its capture tasks may still end or let go.
  if (state.closed && (command.type === 'CaptureFact' || command.type === 'CaptureTaskFact' || command.type === 'TimerDue' || command.type === 'CloseRecorder')) return;
  switch (command.type) {
    case 'CaptureFact':
      captureFact(d, command);
      break;
    case 'SocketReleased':
      if (d.s.draining.has(command.connectionId)) d.emit({ type: 'SocketReleased', connectionId: command.connectionId });
      break;
    case 'TimerDue':
      timerDue(d, command.ref);
      break;
    case 'ClaimTaskStream': {
      d.emit({ type: 'TaskClaimed', ref: command.ref, attempt: command.attempt }, { type: 'clearTimer', ref: command.ref });
      break;
    }
    case 'AbandonTaskClaim': {
      if (d.s.tasks.get(command.ref) !== command.attempt) break;
      d.emit({ type: 'TaskReleased', ref: command.ref, attempt: command.attempt, dropStream: false });
      const earlier = d.s.streams.get(command.ref);
      if (earlier?.status === 'ended' && !d.s.closed) d.arm(earlier.ref); // no newer attempt: its seal is due again
      break;
    }
    case 'OpenTaskStream': {
      const { offer } = command;
      const key = `task:${offer.id}`;
      if (d.s.tasks.get(refOf(offer.platform, key)) !== command.attempt) break;
      d.emit({
        type: 'StreamOpened',
        stream: newStream(refOf(offer.platform, key), command.sessionId, offer.platform, key, 'task', command.identity, command.metadata, now, now, command.attempt),
        startNs: null,
        startedAt: now,
      });
      break;
    }
    case 'CaptureTaskFact': {
      const stream = d.task(command.ref, command.attempt);
      if (!stream) break;
      d.recordInto(stream.ref, command.held);
      if (command.signal?.finalFrame) d.emit({ type: 'FinalFrameSeen', ref: stream.ref, frame: command.signal.finalFrame });
      break;
    }
    case 'EndTaskStream': {
      const stream = d.task(command.ref, command.attempt);
      if (!stream) break;
      const { signal } = command;
      // A platform whose runs end on a final frame (MoltStation) has its outcome from it; the task's own signal adds to it.
      const fromFinalFrame = platformOf(stream.platform).outcome.fromFinalFrame;
      const outcome = fromFinalFrame ? { ...fromFinalFrame(stream.finalFrame, signal.reason), ...signal.outcome } : signal.outcome;
      d.endRun(stream.ref, { reason: signal.reason, outcome });
      break;
    }
    case 'ReleaseTaskStream': {
      const stream = d.task(command.ref, command.attempt);
      if (!stream) break;
      // The stream stays open for the next attempt; what this one recorded, if another writer's take-over
      // made the store put it elsewhere (re-homed), is complete and sealed there (the Ingest does that).
      d.emit({ type: 'TaskReleased', ref: command.ref, attempt: command.attempt, dropStream: true }, { type: 'clearTimer', ref: command.ref }, { type: 'releaseSession', sessionId: stream.id });
      break;
    }
    case 'CloseRecorder':
      close(d, command.newId);
      break;
  }
}

// ——— facts ———

/** What a message without a signal carries (one shared object rather than one per message). */
const NO_SIGNAL: WsMessageSignal = Object.freeze({});

/**
 * A held event as the Ingest's input: its fields and its two times, as one literal of a fixed shape. (An object
 * spread of the event plus the times was the decider's costliest line per message: issue 18.)
 */
function recordInput(h: Held): RecordInput {
  const e = h.event;
  const input: RecordInput = {
    kind: e.kind,
    direction: e.direction,
    channel: e.channel,
    format: e.format,
    body: e.body,
    msgType: e.msgType,
    tick: e.tick,
    requestId: e.requestId,
    atNs: h.atNs,
    wallUs: h.wallUs,
  };
  if (e.meta !== undefined) input.meta = e.meta;
  return input;
}

function captureFact(d: Draft, c: CaptureFact): void {
  const { fact } = c;
  const held: Held = { event: c.event, atNs: fact.atNs, wallUs: fact.wallUs };
  switch (fact.type) {
    case 'ws-open': {
      const { identity } = attributeWs(fact.platform, fact.path, fact.connectionId);
      d.emit({ type: 'ConnectionOpened', connectionId: fact.connectionId, connection: { platform: fact.platform, streamKey: null, held: [held], wsPath: fact.path } });
      // A socket of a platform whose runs are named by their login (SpaceMolt) is held until that names the agent
      // (or its first client message, or a few messages).
      if (!platformOf(fact.platform).attribution.holdSocketUntilNamed) d.bind(fact.connectionId, identity, c.newId);
      return;
    }
    case 'ws-message': {
      const late = d.s.connections.has(fact.connectionId) ? undefined : recall(d.s.closedSockets, fact.connectionId);
      const lateStream = late ? d.stream(late.platform, late.key) : undefined;
      if (lateStream) {
        // A message that crossed the close (the agent's input while the platform's close was on its way).
        d.recordInto(lateStream.ref, held);
        return;
      }
      const conn = d.connection(fact.connectionId, fact.platform, c.newId);
      const signal = c.signal ?? NO_SIGNAL;
      if (!conn.streamKey) {
        d.emit({ type: 'EventHeld', connectionId: fact.connectionId, held });
        if (signal.agent || conn.held.length + 1 >= d.s.config.holdLimit || fact.direction === 'client_to_platform') {
          const identity = attributeWs(fact.platform, conn.wsPath ?? '', fact.connectionId).identity;
          d.bind(fact.connectionId, { ...identity, ...(signal.agent ? { agent: signal.agent } : {}) }, c.newId);
        }
      } else {
        // A login after other traffic (a SpaceMolt agent asking get_status first) still names the run's agent.
        d.recordKey(conn.platform, conn.streamKey, held, signal.agent ? { key: conn.streamKey, agent: signal.agent } : { key: conn.streamKey }, c.newId);
      }
      // Nearly every message signals nothing: no need to look its stream up again.
      if (!signal.finalFrame && !signal.logout) return;
      const bound = d.s.connections.get(fact.connectionId)?.streamKey;
      const stream = bound ? d.stream(conn.platform, bound) : undefined;
      if (stream) {
        if (signal.finalFrame) d.emit({ type: 'FinalFrameSeen', ref: stream.ref, frame: signal.finalFrame });
        if (signal.logout) d.emit({ type: 'LogoutSeen', ref: stream.ref });
      }
      return;
    }
    case 'ws-close': {
      const conn = d.connection(fact.connectionId, fact.platform, c.newId);
      const key = conn.streamKey ?? d.fallbackKey(fact.connectionId, conn);
      d.emit({ type: 'SocketClosed', connectionId: fact.connectionId, platform: conn.platform, key, ...(fact.draining ? { drainingSinceMs: d.now } : {}) });
      for (const h of [...conn.held, held]) d.recordKey(conn.platform, key, h, { key }, c.newId);
      const stream = d.stream(conn.platform, key);
      if (!stream || stream.status === 'ended') return;
      // Whether the close ends the run is the platform's rule (MoltStation: after its final frame or GAME_OVER/EXIT; SpaceMolt: always).
      const end = platformOf(conn.platform).attribution.socketClosed(
        { code: fact.code, reason: fact.reason, initiator: fact.initiator },
        { finalFrame: stream.finalFrame, logout: stream.logout, agent: stream.identity.agent ?? null },
      );
      if (end) d.endRun(stream.ref, end);
      return;
    }
    case 'http-request':
      d.emit({ type: 'ConnectionOpened', connectionId: fact.connectionId, connection: { platform: fact.platform, streamKey: null, held: [held], request: fact } });
      return;
    case 'http-response':
    case 'proxy-error': {
      const conn = d.s.connections.get(fact.connectionId);
      if (conn?.wsPath !== undefined) {
        // An error on a proxied socket: it belongs to the socket's stream.
        if (conn.streamKey) d.recordKey(conn.platform, conn.streamKey, held, { key: conn.streamKey }, c.newId);
        else d.emit({ type: 'EventHeld', connectionId: fact.connectionId, held });
        return;
      }
      const request = conn?.request;
      if (!conn || !request) {
        // A late note of an exchange already attributed (e.g. a truncated response body): same stream.
        const key = recall(d.s.finished, fact.connectionId) ?? 'account:anonymous';
        d.recordKey(fact.platform, key, held, { key }, c.newId);
        return;
      }
      if (fact.type === 'proxy-error' && fact.terminal === false) {
        d.emit({ type: 'EventHeld', connectionId: fact.connectionId, held });
        return;
      }
      d.emit({ type: 'ConnectionClosed', connectionId: fact.connectionId });
      const key = exchange(d, c, request, fact.type === 'http-response' ? fact : null, [...conn.held, held]);
      d.emit({ type: 'ExchangeAttributed', connectionId: fact.connectionId, key });
      return;
    }
    case 'note':
      // Notes come from capture tasks through their own streams; a note on the proxy's sink has no run.
      d.recordKey(fact.platform, 'account:anonymous', held, { key: 'account:anonymous' }, c.newId);
      return;
  }
}

function exchange(d: Draft, c: CaptureFact, request: HttpRequestFact, response: Extract<CapturedFact, { type: 'http-response' }> | null, held: Held[]): string {
  const a = attributeHttp(
    {
      platform: request.platform,
      method: request.method,
      path: request.path,
      requestHeaders: request.headers,
      requestBody: request.body,
      ...(response ? { status: response.status, responseBody: response.body } : {}),
    },
    c.fingerprint,
  );
  const platform = request.platform;
  const key = d.resolve(platform, a.identity.key);
  for (const h of held) d.recordKey(platform, key, h, a.identity, c.newId);
  const stream = d.stream(platform, key);
  if (!stream) return key;
  const ref = stream.ref;
  for (const alias of a.aliases) d.emit({ type: 'AliasAdded', ref, alias });
  for (const cred of a.credentials) d.effect({ type: 'credential', runKey: key, credential: { ...cred, key } });
  const isRun = stream.kind === 'run';
  if (a.task && isRun) {
    d.effect({
      type: 'offerTask',
      offer: { id: taskId(platform, a.task.kind, key), kind: a.task.kind, platform, runKey: key, platformSessionId: stream.identity.platformSessionId ?? null, params: a.task.params },
    });
  }
  if (isRun) d.effect({ type: 'activity', runKey: key, atMs: d.now });
  // A platform whose runs expire on a sliding TTL (RGS): the run's expiry moves with what the platform said and did.
  const slidingExpiry = platformOf(platform).attribution.slidingExpiry;
  if (slidingExpiry && isRun) {
    if (a.expiresAtMs !== undefined) d.emit({ type: 'ExpiryMoved', ref, expiresAtMs: a.expiresAtMs });
    if (a.activity) d.emit({ type: 'ExpiryMoved', ref, expiresAtMs: Math.max(d.get(ref).expiresAtMs ?? 0, d.now + d.s.config.rgsTtlMs) });
    if (stream.key.startsWith('token:') && !d.get(ref).pollOffered) {
      // A run first seen by its token (the launch went around the proxy): its poller is keyed by the stream.
      const kind = slidingExpiry.tokenRunTask;
      d.emit({ type: 'PollerOffered', ref }, { type: 'offerTask', offer: { id: taskId(platform, kind, key), kind, platform, runKey: key, platformSessionId: null, params: {} } });
      const bearer = /^Bearer\s+(\S+)/i.exec(request.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '')?.[1];
      if (bearer) d.effect({ type: 'credential', runKey: key, credential: { key, name: 'sessionToken', value: bearer } });
    }
    d.arm(ref);
  }
  if (a.end && isRun) d.endRun(ref, a.end);
  return key;
}

// ——— timers ———

function timerDue(d: Draft, ref: string): void {
  const stream = d.s.streams.get(ref);
  if (!stream?.due) return;
  const { atMs, action } = stream.due;
  // A timer may fire early (the adapter keeps an earlier one armed rather than re-arming on every event).
  if (d.now + 5 < atMs) {
    d.effect({ type: 'setTimer', ref, atMs });
    return;
  }
  // A stream with a WebSocket still open through the proxy is neither idle nor over: its end comes with the socket,
  // whose close starts the clock again. Under overload a silent stretch — the platform's or the agent's process
  // starved for seconds — ended and sealed such streams while they played; the socket's next messages then went to a
  // stream of their own (`connection:…`), the run split in two (issue 18). Idle ends, account ends and seals wait.
  if (action !== 'expire' && (openSocketOf(d.s, stream) || drainingSocketOf(d, stream))) {
    const next = d.now + (action === 'seal' ? d.s.config.sealAfterMs : action === 'idle' ? d.s.config.runIdleMs : d.s.config.accountIdleMs);
    d.emit({ type: 'TimerArmed', ref, atMs: next, action }, { type: 'setTimer', ref, atMs: next });
    return;
  }
  switch (action) {
    case 'seal':
      d.seal(ref);
      return;
    case 'end-account':
      d.emit({ type: 'StreamEnded', ref, atMs: d.now }, { type: 'endSession', sessionId: stream.id, endedAt: new Date(d.now) });
      d.seal(ref);
      return;
    case 'expire':
      d.endRun(ref, { reason: 'expired', outcome: { reason: 'expired', observedBy: 'clock', expiresAt: new Date(stream.expiresAtMs ?? 0).toISOString() } });
      return;
    case 'idle':
      d.endRun(ref, { reason: 'idle', outcome: { reason: 'idle', idleMs: d.s.config.runIdleMs } });
      return;
  }
}

/** Whether a proxied WebSocket bound to this run stream is still open (its close removes it from `connections`). */
function openSocketOf(s: LifecycleState, stream: StreamState): boolean {
  for (const c of s.connections.values()) {
    if (c.wsPath === undefined || c.platform !== stream.platform || c.streamKey === null) continue;
    if ((s.aliases.get(refOf(c.platform, c.streamKey)) ?? c.streamKey) === stream.key) return true;
  }
  return false;
}

/**
 * Whether a socket of this stream closed with its other leg still read by the proxy (`draining`): an agent's input that
 * crossed the platform's close may still come, and it belongs to this run, so the seal waits (open problem 8). A
 * socket not released within `drainHoldMs` of its close no longer holds it (and is forgotten).
 */
function drainingSocketOf(d: Draft, stream: StreamState): boolean {
  let holds = false;
  for (const [id, socket] of d.s.draining.entries()) {
    if (socket.platform !== stream.platform || (d.s.aliases.get(refOf(socket.platform, socket.key)) ?? socket.key) !== stream.key) continue;
    if (d.now - socket.sinceMs < d.s.config.drainHoldMs) holds = true;
    else d.emit({ type: 'SocketReleased', connectionId: id });
  }
  return holds;
}

function close(d: Draft, newId: () => string): void {
  for (const [id, conn] of d.s.connections.entries()) {
    if (conn.held.length === 0) continue;
    const key = conn.streamKey ?? d.fallbackKey(id, conn);
    d.emit({ type: 'HeldFlushed', connectionId: id });
    for (const h of conn.held) d.recordKey(conn.platform, key, h, { key }, newId);
  }
  const wallUs = d.now * 1000;
  for (const s of d.s.streams.values()) {
    if (s.status === 'ended' || s.kind === 'task') continue;
    d.emit({ type: 'CaptureStopped', ref: s.ref }, { type: 'record', sessionId: s.id, input: { ...captureStopped({ reason: 'recorder-stopped' }), wallUs } });
  }
  for (const s of d.s.streams.values()) d.effect({ type: 'clearTimer', ref: s.ref });
  d.emit({ type: 'RecorderClosed' });
}

// ——— the working state of one decision ———

class Draft {
  readonly events: LifecycleEvent[] = [];
  readonly effects: LifecycleEffect[] = [];

  constructor(
    public s: LifecycleState,
    readonly now: number,
    /** `evolve`, or `evolveOwned` when the caller handed the state over (see `decideAndFold`). */
    private readonly fold: (state: LifecycleState, event: LifecycleEvent) => LifecycleState,
  ) {}

  emit(event: LifecycleEvent, ...effects: LifecycleEffect[]): void {
    this.events.push(event);
    this.s = this.fold(this.s, event);
    for (const e of effects) this.effects.push(e);
  }

  effect(effect: LifecycleEffect): void {
    this.effects.push(effect);
  }

  get(ref: string): StreamState {
    const s = this.s.streams.get(ref);
    if (!s) throw new Error(`no stream ${ref}`);
    return s;
  }

  resolve(platform: Platform, key: string): string {
    return this.s.aliases.get(refOf(platform, key)) ?? key;
  }

  stream(platform: Platform, key: string): StreamState | undefined {
    return this.s.streams.get(refOf(platform, this.resolve(platform, key)));
  }

  /** The stream of a capture task's attempt, if that attempt still owns it. */
  task(ref: string, attempt: number): StreamState | undefined {
    const s = this.s.streams.get(ref);
    return this.s.tasks.get(ref) === attempt && s?.attempt === attempt ? s : undefined;
  }

  connection(connectionId: string, platform: Platform, newId: () => string): ConnectionState {
    const known = this.s.connections.get(connectionId);
    if (known) return known;
    // A message of a connection opened before this recorder started: it gets a stream of its own.
    const key = `connection:${connectionId}`;
    const conn: ConnectionState = { platform, streamKey: key, held: [] };
    this.emit({ type: 'ConnectionOpened', connectionId, connection: conn });
    this.ensureStream(platform, key, { key }, undefined, newId);
    return conn;
  }

  fallbackKey(connectionId: string, conn: ConnectionState): string {
    const identity = conn.wsPath !== undefined ? attributeWs(conn.platform, conn.wsPath, connectionId).identity : { key: 'account:anonymous' };
    return this.resolve(conn.platform, identity.key);
  }

  bind(connectionId: string, identity: StreamIdentity, newId: () => string): void {
    const conn = this.s.connections.get(connectionId);
    if (!conn) return;
    const key = this.resolve(conn.platform, identity.key);
    this.emit({ type: 'ConnectionBound', connectionId, streamKey: key });
    this.ensureStream(conn.platform, key, identity, conn.held[0], newId);
    this.emit({ type: 'HeldFlushed', connectionId });
    for (const h of conn.held) this.recordKey(conn.platform, key, h, { key }, newId);
  }

  recordKey(platform: Platform, key: string, held: Held, identity: StreamIdentity, newId: () => string): void {
    const stream = this.ensureStream(platform, key, identity, held, newId);
    this.recordInto(stream.ref, held);
  }

  /** Records into a stream; its timer (not a task's: its runner says when it ends) moves with the activity. */
  recordInto(ref: string, held: Held): void {
    const stream = this.get(ref);
    const record: LifecycleEffect = { type: 'record', sessionId: stream.id, input: recordInput(held) };
    const due = stream.kind !== 'task' && !this.s.closed ? this.dueOf(stream, this.now) : undefined;
    if (!due) return this.emit({ type: 'EventRecorded', ref, atMs: this.now }, record);
    this.emit({ type: 'EventRecorded', ref, atMs: this.now, due }, record, { type: 'setTimer', ref, atMs: due.atMs });
  }

  /**
   * The stream of `key`, opened if new. `first` is the first event it will hold: the stream's capture starts
   * when that event was observed, not when the stream could be attributed (a SpaceMolt socket is held until
   * its first client message, an HTTP exchange until its response), so offsets keep the time before it.
   */
  ensureStream(platform: Platform, key: string, identity: StreamIdentity, first: Held | undefined, newId: () => string): StreamState {
    const existing = this.stream(platform, key);
    if (existing) {
      // Later facts may name what the first did not (the game, the agent): the stored session row learns it
      // too (an `open` of a known session fills its empty identity columns; its clocks are untouched).
      const game = !existing.identity.game && identity.game ? identity.game : undefined;
      const agent = !existing.identity.agent && identity.agent ? identity.agent : undefined;
      if (game || agent) {
        this.emit({ type: 'IdentityLearned', ref: existing.ref, ...(agent ? { agent } : {}), ...(game ? { game } : {}) });
        const s = this.get(existing.ref);
        this.effect({ type: 'openSession', session: sessionRow(s, s.startedAtMs) });
        return s;
      }
      return existing;
    }
    // Traffic about a run this recorder already ended and sealed (an agent asking for its rewards snapshot or
    // polling a stopped session after the grace period) goes to an "after-run" stream: recorded, attributed to
    // the run (same platform session), sealed once quiet like an account stream; it never ends the run again.
    const previous = key.startsWith('account:') ? undefined : recall(this.s.sealedRuns, refOf(platform, key));
    const kind: StreamKind = key.startsWith('account:') ? 'account' : previous ? 'after-run' : 'run';
    const id = newId();
    const startedAt = Math.floor((first?.wallUs ?? this.now * 1000) / 1000);
    const metadata: Record<string, unknown> = {
      stream: kind,
      capturedBy: this.s.config.capturedBy,
      ...(this.s.config.writer ? { writer: this.s.config.writer } : {}),
      key: safeId(key),
      ...(previous ? { previous } : {}),
    };
    const stream = newStream(refOf(platform, key), id, platform, key, kind, identity, metadata, startedAt, this.now);
    this.emit(
      { type: 'StreamOpened', stream, startNs: first ? first.atNs : null, startedAt },
      { type: 'openSession', session: sessionRow(stream, startedAt), ...(first ? { startNs: first.atNs } : {}) },
    );
    return stream;
  }

  endRun(ref: string, signal: EndSignal): void {
    const stream = this.get(ref);
    if (stream.status === 'ended') return;
    const { platform, identity } = stream;
    const outcome: Record<string, unknown> = {
      platform,
      game: identity.game ?? null,
      platformSessionId: identity.platformSessionId ?? null,
      agent: identity.agent ?? null,
      ...signal.outcome,
      reason: signal.reason,
    };
    const run = identity.platformSessionId ? `${platform}:${identity.platformSessionId}` : `${platform}:${stream.id}`;
    const payload = {
      sessionId: stream.id,
      platform,
      game: identity.game ?? null,
      platformSessionId: identity.platformSessionId ?? null,
      agent: identity.agent ?? null,
      source: identity.source ?? null,
      outcome,
    };
    // One snapshot, one handoff and one audit per platform run, whichever of its streams (proxy, spectator, poller) ends first.
    const outbox: NewOutboxMessage[] = [
      { queue: 'snapshot-submission', jobName: 'snapshot', payload, dedupeKey: `snapshot-submission:${run}` },
      { queue: 'reward-handoff', jobName: 'reward', payload, dedupeKey: `reward-handoff:${run}` },
      { queue: 'run-audit', jobName: 'audit', payload, dedupeKey: `run-audit:${run}` },
    ];
    const tick = typeof outcome['tick'] === 'number' ? (outcome['tick'] as number) : null;
    this.emit(
      { type: 'RunEnded', ref, reason: signal.reason, outcome, outbox, atMs: this.now },
      {
        type: 'record',
        sessionId: stream.id,
        input: { kind: 'outcome', direction: 'internal', channel: 'internal', format: 'json', body: JSON.stringify(outcome), msgType: 'outcome', tick, requestId: null },
        outbox,
      },
      { type: 'endSession', sessionId: stream.id, endedAt: new Date(this.now), outcome },
      { type: 'log', level: 'info', message: `recorder: ${platform} run ${stream.id} ended (${signal.reason}); sealing in ${this.s.config.sealAfterMs} ms` },
    );
    this.arm(ref);
  }

  seal(ref: string): void {
    const stream = this.get(ref);
    this.emit({ type: 'StreamSealed', ref }, { type: 'clearTimer', ref }, { type: 'sealSession', sessionId: stream.id });
  }

  /** One timer per stream: seal after the grace period, end an idle account or run, end an expired RGS run. */
  arm(ref: string): void {
    if (this.s.closed) return;
    const s = this.get(ref);
    const { atMs, action } = this.dueOf(s, s.lastActivityMs);
    this.emit({ type: 'TimerArmed', ref, atMs, action }, { type: 'setTimer', ref, atMs });
  }

  /** When a stream's timer is due, counted from its last activity, and what it does then. */
  dueOf(s: StreamState, lastActivityMs: number): { atMs: number; action: TimerAction } {
    const { sealAfterMs, accountIdleMs, runIdleMs } = this.s.config;
    if (s.status === 'ended') return { atMs: lastActivityMs + sealAfterMs, action: 'seal' };
    if (s.kind === 'account' || s.kind === 'after-run') return { atMs: lastActivityMs + accountIdleMs, action: 'end-account' };
    if (s.expiresAtMs !== null && s.expiresAtMs < lastActivityMs + runIdleMs) return { atMs: s.expiresAtMs, action: 'expire' };
    return { atMs: lastActivityMs + runIdleMs, action: 'idle' };
  }
}

function newStream(
  ref: string,
  id: string,
  platform: Platform,
  key: string,
  kind: StreamKind,
  identity: StreamIdentity,
  metadata: Record<string, unknown>,
  startedAtMs: number,
  now: number,
  attempt?: number,
): StreamState {
  return {
    ref,
    id,
    platform,
    key,
    kind,
    status: 'open',
    identity: { ...identity },
    aliases: [],
    metadata,
    startedAtMs,
    lastActivityMs: now,
    events: 0,
    finalFrame: null,
    logout: false,
    expiresAtMs: null,
    pollOffered: false,
    due: null,
    ...(attempt !== undefined ? { attempt } : {}),
  };
}

/** The session row of a stream (an `open` of a known one fills its empty identity columns). */
function sessionRow(s: StreamState, startedAtMs: number): NewSession {
  return {
    id: s.id,
    platform: s.platform,
    game: s.identity.game ?? null,
    platformSessionId: s.identity.platformSessionId ?? null,
    agent: s.identity.agent ?? null,
    source: s.identity.source ?? null,
    startedAt: new Date(startedAtMs),
    metadata: s.metadata,
  };
}

/** The `capture-stopped` marker: the capture of a stream ended here (not necessarily its run); `detail` says why. */
export function captureStopped(detail: Record<string, unknown>): RecordInput {
  return { kind: 'marker', direction: 'internal', channel: 'internal', format: 'json', body: JSON.stringify(detail), msgType: 'capture-stopped' };
}

/** A key as a safe id: fingerprints keep their hex, other characters outside [A-Za-z0-9._:-] become `_`. */
export function safeId(key: string): string {
  return key.replace(/\[redacted:([0-9a-f]+)\]/g, 'fp-$1').replace(/[^A-Za-z0-9._:-]/g, '_');
}

/** A task's id: the same in every process for the same run; safe as a BullMQ job id (no `:`). */
export function taskId(platform: Platform, kind: CaptureTaskKind, runKey: string): string {
  return `${platform}.${kind}.${safeId(runKey).replace(/:/g, '.')}`;
}
