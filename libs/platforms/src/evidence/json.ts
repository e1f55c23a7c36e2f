import type { EvidenceEvent } from './types';

/**
 * Each event's parsed body, kept as long as the event object lives (an audit's evidence): the platform audits,
 * the summaries and the common checks read the same frames again and again, and parsing every frame body
 * several times per audit was the largest self time of an audit. Keyed by the event object (the cache goes
 * with the evidence) and checked against the body it was parsed from, so an event whose body is replaced is
 * parsed again. The parsed values are shared: readers only read them.
 */
const parsedBodies = new WeakMap<object, { body: string; value: unknown }>();

/** The event's body parsed as one JSON value, or undefined (empty, binary, NDJSON, malformed); parsed once per event. */
export function jsonBody(e: Pick<EvidenceEvent, 'body' | 'bodyEncoding'>): unknown {
  if (e.body === null || e.bodyEncoding !== 'utf8') return undefined;
  const known = parsedBodies.get(e);
  if (known && known.body === e.body) return known.value;
  let value: unknown;
  try {
    value = JSON.parse(e.body) as unknown;
  } catch {
    value = undefined;
  }
  parsedBodies.set(e, { body: e.body, value });
  return value;
}

/** The event's body as a JSON object, or undefined. */
export function jsonObject(e: Pick<EvidenceEvent, 'body' | 'bodyEncoding'>): Record<string, unknown> | undefined {
  const v = jsonBody(e);
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The event's meta parsed (HTTP method/path/status, close code/reason), or {}. */
export function metaOf(e: Pick<EvidenceEvent, 'meta'>): Record<string, unknown> {
  if (!e.meta) return {};
  try {
    const v = JSON.parse(e.meta) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export const asObject = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
export const asNumber = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A reference to the event for a finding. */
export const refOf = (e: Pick<EvidenceEvent, 'sessionId' | 'seq'>): { sessionId: string; seq: number } => ({ sessionId: e.sessionId, seq: e.seq });
