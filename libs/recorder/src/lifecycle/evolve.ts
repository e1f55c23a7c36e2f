import { memory, PMap, remember } from './pmap';
import type { LifecycleConfig, LifecycleEvent, LifecycleState, StreamState } from './types';

export const DEFAULT_CONFIG: LifecycleConfig = {
  sealAfterMs: 10_000,
  accountIdleMs: 60_000,
  runIdleMs: 30 * 60_000,
  rgsTtlMs: 3_600_000,
  holdLimit: 64,
  drainHoldMs: 60_000,
  capturedBy: 'proxy',
};

export function initialState(config: Partial<LifecycleConfig> = {}): LifecycleState {
  return {
    config: { ...DEFAULT_CONFIG, ...config },
    streams: PMap.empty(),
    aliases: PMap.empty(),
    connections: PMap.empty(),
    finished: memory(2000),
    closedSockets: memory(2000),
    draining: PMap.empty(),
    sealedRuns: memory(20_000),
    tasks: PMap.empty(),
    closed: false,
  };
}

/** `<platform>|<key>`: a stream's (or an alias's) name in the state. */
export function refOf(platform: string, key: string): string {
  return `${platform}|${key}`;
}

/** Folds one event into the state: pure, the given state is left as it was. */
export function evolve(state: LifecycleState, event: LifecycleEvent): LifecycleState {
  switch (event.type) {
    case 'ConnectionOpened':
      return { ...state, connections: state.connections.set(event.connectionId, event.connection) };
    case 'EventHeld': {
      const conn = state.connections.get(event.connectionId);
      return conn ? { ...state, connections: state.connections.set(event.connectionId, { ...conn, held: [...conn.held, event.held] }) } : state;
    }
    case 'ConnectionBound': {
      const conn = state.connections.get(event.connectionId);
      return conn ? { ...state, connections: state.connections.set(event.connectionId, { ...conn, streamKey: event.streamKey }) } : state;
    }
    case 'HeldFlushed': {
      const conn = state.connections.get(event.connectionId);
      return conn && conn.held.length > 0 ? { ...state, connections: state.connections.set(event.connectionId, { ...conn, held: [] }) } : state;
    }
    case 'ConnectionClosed':
      return { ...state, connections: state.connections.delete(event.connectionId) };
    case 'SocketClosed':
      return {
        ...state,
        connections: state.connections.delete(event.connectionId),
        closedSockets: remember(state.closedSockets, event.connectionId, { platform: event.platform, key: event.key }),
        ...(event.drainingSinceMs !== undefined ? { draining: state.draining.set(event.connectionId, { platform: event.platform, key: event.key, sinceMs: event.drainingSinceMs }) } : {}),
      };
    case 'SocketReleased':
      return { ...state, draining: state.draining.delete(event.connectionId) };
    case 'ExchangeAttributed':
      return { ...state, finished: remember(state.finished, event.connectionId, event.key) };
    case 'StreamOpened':
      return { ...state, streams: state.streams.set(event.stream.ref, event.stream) };
    case 'IdentityLearned':
      return patch(state, event.ref, (s) => ({ identity: { ...s.identity, ...(event.agent ? { agent: event.agent } : {}), ...(event.game ? { game: event.game } : {}) } }));
    case 'EventRecorded':
      return patch(state, event.ref, (s) => ({ events: s.events + 1, lastActivityMs: event.atMs, ...(event.due ? { due: event.due } : {}) }));
    case 'AliasAdded': {
      const s = state.streams.get(event.ref);
      if (!s) return state;
      return {
        ...state,
        aliases: state.aliases.set(refOf(s.platform, event.alias), s.key),
        streams: state.streams.set(s.ref, { ...s, aliases: s.aliases.includes(event.alias) ? s.aliases : [...s.aliases, event.alias] }),
      };
    }
    case 'PollerOffered':
      return patch(state, event.ref, () => ({ pollOffered: true }));
    case 'FinalFrameSeen':
      return patch(state, event.ref, () => ({ finalFrame: event.frame }));
    case 'LogoutSeen':
      return patch(state, event.ref, () => ({ logout: true }));
    case 'ExpiryMoved':
      return patch(state, event.ref, () => ({ expiresAtMs: event.expiresAtMs }));
    case 'TimerArmed':
      return patch(state, event.ref, () => ({ due: { atMs: event.atMs, action: event.action } }));
    case 'RunEnded':
      return patch(state, event.ref, (s) => ({ status: 'ended', events: s.events + 1, due: null }));
    case 'StreamEnded':
      return patch(state, event.ref, () => ({ status: 'ended', due: null }));
    case 'StreamSealed': {
      const s = state.streams.get(event.ref);
      if (!s) return state;
      let sealedRuns = state.sealedRuns;
      if (s.kind === 'run') for (const k of [s.key, ...s.aliases]) sealedRuns = remember(sealedRuns, refOf(s.platform, k), s.id);
      let aliases = state.aliases;
      for (const a of s.aliases) aliases = aliases.delete(refOf(s.platform, a));
      let connections = state.connections;
      for (const [id, c] of state.connections.entries()) if (c.streamKey === s.key && c.platform === s.platform) connections = connections.delete(id);
      return { ...state, streams: state.streams.delete(s.ref), tasks: s.kind === 'task' ? state.tasks.delete(s.ref) : state.tasks, aliases, connections, sealedRuns };
    }
    case 'CaptureStopped':
      return state;
    case 'TaskClaimed':
      // The earlier attempt's stream (maybe ended, waiting to seal) is paused: the new attempt owns it.
      return patch({ ...state, tasks: state.tasks.set(event.ref, event.attempt) }, event.ref, () => ({ due: null }));
    case 'TaskReleased': {
      const tasks = state.tasks.get(event.ref) === event.attempt ? state.tasks.delete(event.ref) : state.tasks;
      return { ...state, tasks, streams: event.dropStream ? state.streams.delete(event.ref) : state.streams };
    }
    case 'RecorderClosed': {
      let streams = state.streams;
      for (const s of state.streams.values()) if (s.due) streams = streams.set(s.ref, { ...s, due: null });
      return { ...state, streams, closed: true };
    }
  }
}

/**
 * `evolve` for a state its caller owns: nobody else holds it or anything read from it (the Recorder, which keeps
 * one state and replaces it with each decision's). `EventRecorded` — the one event of nearly every captured
 * message — then updates its stream's entry in place: no copy of the stream, of the streams map's root, node and
 * bucket, or of the state, which were most of the decider's cost and garbage per message (docs/benchmarks.md,
 * issue 18). A stream enters the state as a copy of its `StreamOpened` event's, so the events a decision returns
 * are never changed afterwards. Every other event folds as `evolve` does. The result equals `evolve`'s (the
 * lifecycle fixture checks it for every command of the decider's specs).
 */
export function evolveOwned(state: LifecycleState, event: LifecycleEvent): LifecycleState {
  if (event.type === 'EventRecorded') {
    const s = state.streams.get(event.ref);
    if (!s) return state;
    s.events += 1;
    s.lastActivityMs = event.atMs;
    if (event.due) s.due = event.due;
    return state;
  }
  if (event.type === 'StreamOpened') return { ...state, streams: state.streams.set(event.stream.ref, { ...event.stream }) };
  return evolve(state, event);
}

function patch(state: LifecycleState, ref: string, change: (s: StreamState) => Partial<StreamState>): LifecycleState {
  const s = state.streams.get(ref);
  return s ? { ...state, streams: state.streams.set(ref, { ...s, ...change(s) }) } : state;
}
