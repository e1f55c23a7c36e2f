import type { ReplayableEvent } from '../types';

/** A test event: seq, recorded offset in ms, kind (a frame by default). */
export function ev(seq: number, offsetMs: number, overrides: Partial<ReplayableEvent> = {}): ReplayableEvent {
  return {
    seq,
    offsetUs: Math.round(offsetMs * 1000),
    kind: 'frame',
    direction: 'platform_to_client',
    channel: 'play_ws',
    format: 'json',
    body: JSON.stringify({ type: 'frame', tick: seq, events: [] }),
    msgType: 'frame',
    tick: seq,
    ...overrides,
  };
}

/** `count` events from seq `from`, `everyMs` apart starting at `atMs`. */
export function evenly(from: number, count: number, everyMs: number, atMs = 0): ReplayableEvent[] {
  return Array.from({ length: count }, (_, i) => ev(from + i, atMs + i * everyMs));
}
