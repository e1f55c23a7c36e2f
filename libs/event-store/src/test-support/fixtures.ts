import { randomUUID } from 'node:crypto';
import type { NewEvent, NewSession } from '../types';

const T0_US = Date.UTC(2026, 10, 23, 10, 0, 0) * 1000;

export function aSession(overrides: Partial<NewSession> = {}): NewSession {
  return {
    id: randomUUID(),
    platform: 'moltstation',
    game: 'shellrunners',
    agent: 'test-agent',
    source: 'agent_api',
    startedAt: new Date(T0_US / 1000),
    ...overrides,
  };
}

/** A MoltStation-like frame event: tick n, 50 ms apart. */
export function aFrame(sessionId: string, seq: number, overrides: Partial<NewEvent> = {}): NewEvent {
  const tick = seq;
  return {
    sessionId,
    seq,
    kind: 'frame',
    direction: 'platform_to_client',
    channel: 'play_ws',
    recordedAtUs: T0_US + seq * 50_000 + 123,
    offsetUs: seq * 50_000 + 7,
    format: 'json',
    body: JSON.stringify({ type: 'frame', tick, phase: 'running', score: seq * 10, pawn: { x: seq % 7, y: 3 } }),
    msgType: 'frame',
    tick,
    requestId: null,
    ...overrides,
  };
}

/** `count` consecutive frames from seq `from`. */
export function frames(sessionId: string, from: number, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => aFrame(sessionId, from + i));
}
