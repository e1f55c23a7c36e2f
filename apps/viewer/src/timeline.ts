/** Timeline markers of a session, from its recorded events (pure). */
import { asObject, bodyText, EventHead, frameEventList, gameFrameOf, isGameFrameEvent, parseJson } from './events.js';

export type MarkerKind = 'death' | 'powerup' | 'game_over' | 'gap' | 'outcome' | 'close' | 'marker' | 'status';

export interface TimelineMarker {
  seq: number;
  offsetUs: number;
  kind: MarkerKind;
  label: string;
}

export interface MarkerSourceEvent extends EventHead {
  body?: string | null;
  bodyEncoding?: string | null;
}

/**
 * The markers of one event: a frame's `death`/`powerup`/`game_over` entries, `gap` events, the `outcome`
 * event, a lifecycle close (ws-close), poller `status-transition` markers (`from → to`) and other markers.
 */
export function markersOfEvent(e: MarkerSourceEvent): TimelineMarker[] {
  const at = { seq: e.seq, offsetUs: e.offsetUs };
  switch (e.kind) {
    case 'frame': {
      if (!isGameFrameEvent(e)) return [];
      const text = bodyText(e.body, e.bodyEncoding);
      if (!/death|powerup|game_over/.test(text)) return [];
      const out: TimelineMarker[] = [];
      for (const ev of frameEventList(gameFrameOf(text))) {
        const t = ev['t'];
        if (t === 'death') out.push({ ...at, kind: 'death', label: `death (${String(ev['reason'] ?? '?')}${typeof ev['lives'] === 'number' ? `, ${ev['lives']} lives left` : ''})` });
        else if (t === 'powerup') out.push({ ...at, kind: 'powerup', label: `powerup ${String(ev['kind'] ?? '')}`.trim() });
        else if (t === 'game_over')
          out.push({ ...at, kind: 'game_over', label: `game over${ev['reason'] ? ` (${String(ev['reason'])})` : ''}${typeof ev['score'] === 'number' ? ` score ${ev['score']}` : ''}` });
      }
      return out;
    }
    case 'gap':
      return [{ ...at, kind: 'gap', label: e.msgType ? `gap: ${e.msgType}` : 'gap' }];
    case 'outcome':
      return [{ ...at, kind: 'outcome', label: 'outcome' }];
    case 'lifecycle':
      return e.msgType && /close/i.test(e.msgType) ? [{ ...at, kind: 'close', label: e.msgType }] : [];
    case 'marker': {
      if (e.msgType === 'status-transition') {
        const j = asObject(parseJson(bodyText(e.body, e.bodyEncoding)));
        const from = j?.['from'];
        const to = j?.['to'];
        return [{ ...at, kind: 'status', label: `status ${typeof from === 'string' ? from : '∅'} → ${typeof to === 'string' ? to : '?'}` }];
      }
      return [{ ...at, kind: 'marker', label: e.msgType ?? 'marker' }];
    }
    default:
      return [];
  }
}

export function markersOf(events: readonly MarkerSourceEvent[]): TimelineMarker[] {
  return events.flatMap(markersOfEvent);
}

/** Where a seq sits on a range from `min` to `max`, in percent (clamped to 0–100). */
export function markerPercent(seq: number, min: number, max: number): number {
  if (max <= min) return 0;
  return Math.min(100, Math.max(0, ((seq - min) / (max - min)) * 100));
}
