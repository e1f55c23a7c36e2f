import { asNumber, asObject, asString, jsonObject, metaOf } from './json';
import type { EvidenceEvent, EvidenceStream, RunEvidence, StreamRole } from './types';

/** Readers of a run's evidence that the summaries and the platforms' outcome figures share. */

/** One event placed on the run's clock: its stream's start (ms) × 1000 + its offset (µs). */
export interface Timed {
  e: EvidenceEvent;
  atUs: number;
  /** Position of the stream in run.streams, for a stable order of simultaneous events. */
  streamIndex: number;
}

/** The events of the streams, ordered by time on the run's clock (then by stream, then by seq). */
export function timeline(streams: readonly EvidenceStream[]): Timed[] {
  const out: Timed[] = [];
  streams.forEach((s, streamIndex) => {
    const startUs = s.startedAt.getTime() * 1000;
    for (const e of s.events) out.push({ e, atUs: startUs + e.offsetUs, streamIndex });
  });
  return out.sort((a, b) => a.atUs - b.atUs || a.streamIndex - b.streamIndex || a.e.seq - b.e.seq);
}

/** The path of an HTTP exchange: the request's meta.path, else the msgType's ("POST /game/play"), without the query. */
export function pathOf(e: EvidenceEvent): string | undefined {
  const p = asString(metaOf(e)['path']) ?? asString(e.msgType)?.split(' ')[1];
  return p?.split('?')[0];
}

/** MoltStation frames of the streams of a role, in time order: `{ t: 'frame', frame: {...} }` bodies (malformed skipped). */
export function framesOf(streams: readonly EvidenceStream[], role: StreamRole): { frame: Record<string, unknown>; e: EvidenceEvent }[] {
  const out: { frame: Record<string, unknown>; e: EvidenceEvent }[] = [];
  for (const { e } of timeline(streams.filter((s) => s.role === role))) {
    if (e.kind !== 'frame' && e.kind !== 'keyframe') continue;
    const frame = asObject(jsonObject(e)?.['frame']);
    if (frame) out.push({ frame, e });
  }
  return out;
}

export const frameScore = (f: Record<string, unknown>): number | undefined => asNumber(f['score']) ?? asNumber(asObject(f['score'])?.['current']);

/** The run's outcome event body: the run session's, else the first recorder stream's that has one. */
export function outcomeOf(run: RunEvidence, recorder: readonly EvidenceStream[]): Record<string, unknown> | undefined {
  const ordered = [...recorder.filter((s) => s.sessionId === run.runSessionId), ...recorder.filter((s) => s.sessionId !== run.runSessionId)];
  for (const s of ordered) {
    for (let i = s.events.length - 1; i >= 0; i--) {
      const e = s.events[i] as EvidenceEvent;
      if (e.kind !== 'outcome') continue;
      const body = jsonObject(e);
      if (body) return body;
    }
  }
  return undefined;
}

/** "1.00" | "1.5" | 1.08 → cents (integer); undefined when not a non-negative amount with at most two decimals. */
export function cents(v: unknown): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    const c = Math.round(v * 100);
    return Math.abs(v * 100 - c) < 1e-6 ? c : undefined;
  }
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * 100 + (m[2] ? Number(m[2].padEnd(2, '0')) : 0);
}

/** A platform's own figures of a run summary (score and lives where the platform has them, the rest in `extra`). */
export interface Platformed {
  score: number | null;
  livesLost: number | null;
  extra: Record<string, number | string | null>;
}
