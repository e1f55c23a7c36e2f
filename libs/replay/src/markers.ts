import type { ReplayableEvent } from './types';

/** A notable point of a session: what to jump to in a timeline. */
export interface ReplayMarker {
  name: string;
  seq: number;
  offsetUs: number;
  kind: string;
}

const FRAME_EVENT_MARKERS = ['death', 'game_over'] as const;

function bodyText(body: ReplayableEvent['body']): string | null {
  if (typeof body === 'string') return body;
  return null;
}

/** Names of death/game_over entries of a frame's `events` array (MoltStation: `{ t: 'death', … }`). */
function frameEventNames(json: unknown): string[] {
  if (!json || typeof json !== 'object') return [];
  const events = (json as { events?: unknown }).events;
  if (!Array.isArray(events)) return [];
  const names: string[] = [];
  for (const e of events) {
    const name = typeof e === 'string' ? e : e && typeof e === 'object' ? ((e as { t?: unknown; type?: unknown }).t ?? (e as { type?: unknown }).type) : undefined;
    if (typeof name === 'string' && (FRAME_EVENT_MARKERS as readonly string[]).includes(name) && !names.includes(name)) names.push(name);
  }
  return names;
}

function parseJsonObjects(text: string, format: ReplayableEvent['format']): unknown[] {
  const lines = format === 'ndjson' ? text.split('\n') : [text];
  const out: unknown[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // not JSON: no marker in it
    }
  }
  return out;
}

const NO_MARKERS: readonly ReplayMarker[] = Object.freeze([]);

/** A frame that may hold `death`/`game_over` entries: a JSON (or NDJSON) text naming one (a cheap pre-filter: most frames do not). */
function mayHoldFrameMarkers(event: ReplayableEvent): boolean {
  const text = bodyText(event.body);
  if (!text || (event.format !== undefined && event.format !== 'json' && event.format !== 'ndjson')) return false;
  return text.includes('death') || text.includes('game_over');
}

/**
 * The markers an event stands for: `marker`, `gap` and `outcome` events; lifecycle close events; frames
 * whose JSON `events` hold `death` or `game_over` (one marker per name). Empty for everything else.
 */
export function markersOf(event: ReplayableEvent): readonly ReplayMarker[] {
  // Most events (frames) have none: the one shared empty list, and no object built for them.
  if (event.kind === 'frame' && !mayHoldFrameMarkers(event)) return NO_MARKERS;
  const at = { seq: event.seq, offsetUs: event.offsetUs, kind: event.kind };
  switch (event.kind) {
    case 'marker':
      return [{ name: event.msgType ?? 'marker', ...at }];
    case 'gap':
      return [{ name: event.msgType ? `gap:${event.msgType}` : 'gap', ...at }];
    case 'outcome':
      return [{ name: 'outcome', ...at }];
    case 'lifecycle':
      return event.msgType && /close/i.test(event.msgType) ? [{ name: event.msgType, ...at }] : [];
    case 'frame': {
      const text = bodyText(event.body) as string; // mayHoldFrameMarkers: a JSON text that names one
      const names: string[] = [];
      for (const json of parseJsonObjects(text, event.format)) for (const n of frameEventNames(json)) if (!names.includes(n)) names.push(n);
      return names.map((name) => ({ name, ...at }));
    }
    default:
      return [];
  }
}
