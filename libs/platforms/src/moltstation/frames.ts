import type { EventKind } from '../vocabulary';
import { strOrNull as str, type Json, type WsClassification } from '../frames';

const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2_147_483_647 ? v : null);

/** MoltStation: `t` is the type; `frame` messages carry `frame.tick`; client `input`/`action` are inputs, `cmd` and `auth` commands. */
export function classifyMoltStation(fromClient: boolean, msg: Json): WsClassification {
  const t = str(msg['t']);
  if (fromClient) {
    const kind: EventKind = t === 'input' || t === 'action' ? 'input' : 'command';
    return { kind, msgType: t, tick: null, requestId: null };
  }
  const frame = msg['frame'] as Json | undefined;
  return { kind: t === 'frame' ? 'frame' : 'notification', msgType: t, tick: t === 'frame' ? int(frame?.['tick']) : null, requestId: null };
}

/** A game frame `{t:"frame", frame:{tick, phase, …}}`: its frame object, else undefined. */
export function frameOf(msg: unknown): Json | undefined {
  if (!msg || typeof msg !== 'object') return undefined;
  const m = msg as { t?: unknown; frame?: unknown };
  if (m.t !== 'frame' || !m.frame || typeof m.frame !== 'object') return undefined;
  return m.frame as Json;
}

/** The final frame of a run (`phase:"ended"`), else undefined. */
export function finalFrameOf(msg: unknown): Json | undefined {
  const frame = frameOf(msg);
  return frame && frame['phase'] === 'ended' ? frame : undefined;
}
