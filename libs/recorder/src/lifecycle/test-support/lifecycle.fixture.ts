import { createHash } from 'node:crypto';
import { inspect, isDeepStrictEqual } from 'node:util';
import type { Platform } from '@rewind/event-store';
import type { CapturedFact, WsCloseFact } from '@rewind/capture-facts';
import type { EncodedEvent } from '../../encoder';
import { inspectWsMessage } from '@rewind/platforms';
import { decide, decideAndFold } from '../decide';
import { evolve, initialState } from '../evolve';
import type { Memory, PMap } from '../pmap';
import type { Decision, LifecycleCommand, LifecycleConfig, LifecycleEffect, LifecycleEvent, LifecycleState, StreamState, TaskOffer } from '../types';

/** A keyed fingerprint stand-in: deterministic, the Redactor's shape (`[redacted:<16 hex>]`). */
export const fp = (secret: string): string => `[redacted:${createHash('sha256').update(`test-key:${secret}`).digest('hex').slice(0, 16)}]`;

/** The clock every fixture starts at (ms since the epoch). */
export const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

type Effect<T extends LifecycleEffect['type']> = Extract<LifecycleEffect, { type: T }>;
type Event<T extends LifecycleEvent['type']> = Extract<LifecycleEvent, { type: T }>;

/** What one `when` decided, with readers for what tests look at. */
export class Then implements Decision {
  constructor(
    readonly events: LifecycleEvent[],
    readonly effects: LifecycleEffect[],
  ) {}

  eventTypes(): string[] {
    return this.events.map((e) => e.type);
  }
  eventsOf<T extends LifecycleEvent['type']>(type: T): Event<T>[] {
    return this.events.filter((e): e is Event<T> => e.type === type);
  }
  effectsOf<T extends LifecycleEffect['type']>(type: T): Effect<T>[] {
    return this.effects.filter((e): e is Effect<T> => e.type === type);
  }
  /** The bodies recorded into a session, in order (the stub encoder's bodies name their facts). */
  recordedInto(sessionId: string): string[] {
    return this.effectsOf('record')
      .filter((r) => r.sessionId === sessionId)
      .map((r) => String(r.input.msgType === 'outcome' || r.input.msgType === 'capture-stopped' ? r.input.msgType : r.input.body));
  }
}

/**
 * The lifecycle decider under test, with a clock, an id source (`s1`, `s2`, …) and fact builders: `given`
 * folds facts into the state (their decisions are kept in `history`), `when` returns what the next command
 * decided, `advance` moves the clock and fires every stream timer that came due, in due order.
 */
export class LifecycleSut {
  state: LifecycleState;
  now = T0;
  private ids = 0;
  private conns = 0;
  readonly history: Decision[] = [];

  /** The same commands folded with `owned` (see `checkOwned`): a state nothing else reads. */
  private owned: LifecycleState;

  constructor(config: Partial<LifecycleConfig>) {
    this.state = initialState({ sealAfterMs: 10_000, accountIdleMs: 60_000, runIdleMs: 30 * 60_000, rgsTtlMs: 3_600_000, capturedBy: 'proxy', writer: 'w1', ...config });
    this.owned = initialState(this.state.config);
  }

  readonly newId = (): string => `s${++this.ids}`;

  /** A fresh connection id. */
  conn(kind: 'ws' | 'http' = 'http'): string {
    return `${kind}-${++this.conns}`;
  }

  at(ms: number): this {
    this.now = ms;
    return this;
  }

  // ——— commands ———

  command(c: LifecycleCommand): Then {
    const before = this.state;
    const drawn: string[] = [];
    const d = decideAndFold('newId' in c ? { ...c, newId: () => (drawn.push(c.newId()), drawn.at(-1) as string) } : c, before, this.now);
    this.state = d.state;
    this.history.push(d);
    this.checkOwned(c, drawn, d);
    return new Then(d.events, d.effects);
  }

  /**
   * The Recorder folds with `owned` (its state updated in place); the specs read the pure fold. Every command of
   * every spec also goes through the owned fold, on a state of its own, with the same ids: its events, effects
   * and state must be what the pure fold gave, or the command throws.
   */
  private checkOwned(c: LifecycleCommand, drawn: string[], pure: Decision & { state: LifecycleState }): void {
    let i = 0;
    const o = decideAndFold('newId' in c ? { ...c, newId: () => drawn[i++] ?? 'owned-fold-drew-more-ids' } : c, this.owned, this.now, { owned: true });
    this.owned = o.state;
    const same = isDeepStrictEqual({ events: o.events, effects: o.effects }, { events: pure.events, effects: pure.effects }) && isDeepStrictEqual(snapshot(o.state), snapshot(pure.state));
    if (!same)
      throw new Error(
        `the owned fold of ${c.type} differs from the pure fold: ${inspect({ owned: { ...o, state: snapshot(o.state) }, pure: { ...pure, state: snapshot(pure.state) } }, { depth: 8 })}`,
      );
  }

  given(...facts: CapturedFact[]): this {
    for (const f of facts) this.command(this.captureCommand(f));
    return this;
  }

  when(...facts: CapturedFact[]): Then {
    const all = facts.map((f) => this.command(this.captureCommand(f)));
    return new Then(
      all.flatMap((t) => t.events),
      all.flatMap((t) => t.effects),
    );
  }

  /** Moves the clock to `ms` later, firing each timer that comes due on the way, at its due time. */
  advance(ms: number): Then {
    const until = this.now + ms;
    const out: Then[] = [];
    for (;;) {
      const next = [...this.state.streams.values()].filter((s) => s.due && s.due.atMs <= until).sort((a, b) => (a.due?.atMs ?? 0) - (b.due?.atMs ?? 0))[0];
      if (!next?.due || this.state.closed) break;
      this.now = Math.max(this.now, next.due.atMs);
      out.push(this.command({ type: 'TimerDue', ref: next.ref }));
    }
    this.now = until;
    return new Then(
      out.flatMap((t) => t.events),
      out.flatMap((t) => t.effects),
    );
  }

  close(): Then {
    return this.command({ type: 'CloseRecorder', newId: this.newId });
  }

  captureCommand(fact: CapturedFact): LifecycleCommand {
    const signal = fact.type === 'ws-message' && typeof fact.data === 'string' ? inspectWsMessage(fact.platform, fact.direction === 'client_to_platform', fact.data) : undefined;
    return { type: 'CaptureFact', fact, event: stubEncode(fact), ...(signal ? { signal } : {}), fingerprint: fp, newId: this.newId };
  }

  // ——— reading the state ———

  stream(platform: Platform, key: string): StreamState | undefined {
    const resolved = this.state.aliases.get(`${platform}|${key}`) ?? key;
    return this.state.streams.get(`${platform}|${resolved}`);
  }

  streamOf(platform: Platform, key: string): StreamState {
    const s = this.stream(platform, key);
    if (!s) throw new Error(`no open stream ${platform} ${key}`);
    return s;
  }

  // ——— facts (observed now: atNs and wallUs from the clock) ———

  private base(platform: Platform, connectionId: string) {
    return { platform, connectionId, atNs: BigInt(this.now) * 1_000_000n, wallUs: this.now * 1000 };
  }

  wsOpen(platform: Platform, connectionId: string, path: string): CapturedFact {
    return { ...this.base(platform, connectionId), type: 'ws-open', path, headers: [] };
  }

  wsFromClient(platform: Platform, connectionId: string, message: unknown): CapturedFact {
    return { ...this.base(platform, connectionId), type: 'ws-message', direction: 'client_to_platform', data: JSON.stringify(message), binary: false };
  }

  wsFromPlatform(platform: Platform, connectionId: string, message: unknown): CapturedFact {
    return { ...this.base(platform, connectionId), type: 'ws-message', direction: 'platform_to_client', data: JSON.stringify(message), binary: false };
  }

  wsClose(platform: Platform, connectionId: string, code: number, reason: string, initiator: WsCloseFact['initiator'] = 'platform'): CapturedFact {
    return { ...this.base(platform, connectionId), type: 'ws-close', code, reason, initiator };
  }

  request(platform: Platform, connectionId: string, method: string, path: string, o: { body?: unknown; bearer?: string; headers?: [string, string][] } = {}): CapturedFact {
    const headers: [string, string][] = [...(o.headers ?? []), ...(o.bearer ? [['authorization', `Bearer ${o.bearer}`] as [string, string]] : [])];
    return { ...this.base(platform, connectionId), type: 'http-request', method, path, headers, body: Buffer.from(o.body === undefined ? '' : JSON.stringify(o.body)) };
  }

  response(platform: Platform, connectionId: string, status: number, body?: unknown): CapturedFact {
    return { ...this.base(platform, connectionId), type: 'http-response', status, headers: [], body: Buffer.from(body === undefined ? '' : JSON.stringify(body)) };
  }

  /** A whole HTTP exchange, answered `status` (the request and its response observed now). */
  exchange(platform: Platform, method: string, path: string, status: number, response?: unknown, o: { body?: unknown; bearer?: string; headers?: [string, string][] } = {}): CapturedFact[] {
    const id = this.conn('http');
    return [this.request(platform, id, method, path, o), this.response(platform, id, status, response)];
  }

  // ——— capture tasks ———

  offer(platform: Platform, kind: TaskOffer['kind'], run: string): TaskOffer {
    return { id: `${platform}.${kind}.${run}`, kind, platform, runKey: `session:${run}`, platformSessionId: run, params: {} };
  }

  /** Claims and opens a task's stream for `attempt` (what `Recorder.openTaskStream` does around the resume). */
  openTask(offer: TaskOffer, attempt: number, sessionId = `task-${offer.id}`): string {
    const ref = `${offer.platform}|task:${offer.id}`;
    this.command({ type: 'ClaimTaskStream', ref, attempt });
    this.command({
      type: 'OpenTaskStream',
      offer,
      identity: { key: `task:${offer.id}`, platformSessionId: offer.platformSessionId },
      sessionId,
      attempt,
      metadata: { stream: 'run', task: offer.kind },
    });
    return ref;
  }

  taskFact(ref: string, attempt: number, message: unknown): Then {
    const data = JSON.stringify(message);
    const platform = ref.slice(0, ref.indexOf('|')) as Platform;
    const fact: CapturedFact = { ...this.base(platform, 'task'), type: 'ws-message', direction: 'platform_to_client', data, binary: false };
    const signal = inspectWsMessage(platform, false, data);
    return this.command({ type: 'CaptureTaskFact', ref, attempt, held: { event: stubEncode(fact), atNs: fact.atNs, wallUs: fact.wallUs }, signal });
  }
}

export function sut(config: Partial<LifecycleConfig> = {}): LifecycleSut {
  return new LifecycleSut(config);
}

/** A state's content as plain data (each map's entries in key order), to compare two states whatever their sharing. */
export function snapshot(state: LifecycleState): Record<string, unknown> {
  const entries = <V>(m: PMap<V>): [string, V][] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const mem = <V>(m: Memory<V>) => ({ young: entries(m.young), old: entries(m.old), max: m.max });
  return {
    config: state.config,
    streams: entries(state.streams),
    aliases: entries(state.aliases),
    connections: entries(state.connections),
    finished: mem(state.finished),
    closedSockets: mem(state.closedSockets),
    draining: entries(state.draining),
    sealedRuns: mem(state.sealedRuns),
    tasks: entries(state.tasks),
    closed: state.closed,
  };
}

/** Folds events one by one (what the adapter's state is, checked against `decideAndFold`). */
export function fold(state: LifecycleState, events: LifecycleEvent[]): LifecycleState {
  return events.reduce(evolve, state);
}

export { decide };

/**
 * Encoding is the adapter's (the FactEncoder, redaction): the decider only carries the event through. The
 * stub's body names the fact, so tests read which facts went to which stream, in which order.
 */
function stubEncode(fact: CapturedFact): EncodedEvent {
  const what =
    fact.type === 'ws-message'
      ? `${fact.direction === 'client_to_platform' ? '>' : '<'}${typeof fact.data === 'string' ? fact.data : '(binary)'}`
      : fact.type === 'http-request'
        ? `${fact.method} ${fact.path}`
        : fact.type === 'http-response'
          ? `${fact.status}`
          : fact.type === 'ws-close'
            ? `close ${fact.code}`
            : fact.type;
  return { kind: 'lifecycle', direction: 'internal', channel: 'internal', format: 'text', body: what };
}
