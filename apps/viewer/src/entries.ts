/** The event list's entries: one line per notable event with its key values (pure). */
import { asObject, bodyText, frameEventList, gameFrameOf, isGameFrameEvent, parseJson, type EventView } from './events.js';

export type EntryKind = 'command' | 'result' | 'notification' | 'status' | 'round' | 'frame' | 'gap' | 'outcome' | 'lifecycle' | 'marker' | 'input' | 'other';

export interface Entry {
  seq: number;
  offsetUs: number;
  kind: EntryKind;
  title: string;
  /** Key values, e.g. `amount 1.00`, `payout 2.00`. */
  values: string[];
}

const scalar = (v: unknown): string | undefined =>
  typeof v === 'string' ? (v.length > 40 ? `${v.slice(0, 37)}…` : v) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === null ? 'null' : undefined;

/** Up to `max` top-level scalar fields of a JSON object, as `key value`. */
function scalars(o: Record<string, unknown> | undefined, max = 4, skip: readonly string[] = []): string[] {
  if (!o) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (skip.includes(k)) continue;
    const s = scalar(v);
    if (s !== undefined) out.push(`${k} ${s}`);
    if (out.length >= max) break;
  }
  return out;
}

/** An RGS round of a `/game/play` (or `/game/action`) response: amount, payout, multiplier, balance. */
export function rgsRoundValues(body: unknown): string[] | undefined {
  const o = asObject(body);
  const round = asObject(o?.['round']);
  if (!o || !round) return undefined;
  const out: string[] = [];
  for (const k of ['amount', 'payout', 'multiplier'] as const) {
    const v = scalar(round[k]);
    if (v !== undefined) out.push(`${k} ${v}`);
  }
  const bal = scalar(o['balance']);
  if (bal !== undefined) out.push(`balance ${bal}`);
  if (round['active'] === true) out.push('open');
  return out;
}

const isRgsPlay = (msgType: string | null): boolean => !!msgType && /^POST \S*\/game\/(play|action)\b/.test(msgType);

/** The entry of one event, or null when it is not worth a line (plain frames without events). */
export function entryOf(e: EventView, opts: { all?: boolean } = {}): Entry | null {
  const at = { seq: e.seq, offsetUs: e.offsetUs };
  const text = () => bodyText(e.body, e.bodyEncoding);
  const json = () => asObject(parseJson(text()));
  const name = e.msgType ?? e.kind;
  switch (e.kind) {
    case 'frame': {
      if (isGameFrameEvent(e)) {
        const frame = gameFrameOf(text());
        const evs = frameEventList(frame).filter((x) => x['t'] !== 'flap');
        if (evs.length === 0 && !opts.all) return null;
        const score = asObject(frame?.['score'])?.['current'] ?? frame?.['score'];
        const values = evs.map((x) => [x['t'], scalar(x['reason']) ?? scalar(x['kind']) ?? scalar(x['gateId']) ?? ''].filter(Boolean).join(' '));
        if (typeof score === 'number') values.push(`score ${score}`);
        return { ...at, kind: 'frame', title: `frame tick ${frame?.['tick'] ?? e.tick ?? '?'}`, values };
      }
      // Other platforms' WS messages (SpaceMolt): results/notifications by direction.
      const j = json();
      const type = scalar(j?.['type']) ?? name;
      const kind: EntryKind = e.direction === 'client_to_platform' ? 'command' : 'notification';
      return { ...at, kind, title: `${e.direction === 'client_to_platform' ? '→' : '←'} ${type}`, values: scalars(asObject(j?.['payload']) ?? j, 4, ['type']) };
    }
    case 'command':
    case 'request':
    case 'input': {
      const j = json();
      return { ...at, kind: e.kind === 'input' ? 'input' : 'command', title: `→ ${name}`, values: scalars(asObject(j?.['payload']) ?? j, 4, ['type']) };
    }
    case 'response': {
      const status = e.meta?.['status'];
      const j = json();
      const round = isRgsPlay(e.msgType) ? rgsRoundValues(j) : undefined;
      if (round) return { ...at, kind: 'round', title: `round ${scalar(asObject(j?.['round'])?.['id']) ?? ''} (${name})`.replace('round  (', 'round ('), values: round };
      const result = asObject(j?.['result']) ?? asObject(j?.['structuredContent']) ?? j;
      return { ...at, kind: 'result', title: `← ${name}${typeof status === 'number' ? ` ${status}` : ''}`, values: scalars(result, 4) };
    }
    case 'notification': {
      const j = json();
      return { ...at, kind: 'notification', title: `⚑ ${scalar(j?.['type']) ?? name}`, values: scalars(asObject(j?.['payload']) ?? asObject(j?.['data']) ?? j, 4, ['type']) };
    }
    case 'marker': {
      const j = json();
      if (e.msgType === 'status-transition') {
        const from = scalar(j?.['from']) ?? '∅';
        return { ...at, kind: 'status', title: `status ${from === 'null' ? '∅' : from} → ${scalar(j?.['to']) ?? '?'}`, values: scalars(j, 3, ['from', 'to']) };
      }
      return { ...at, kind: 'marker', title: `◆ ${name}`, values: scalars(j, 4) };
    }
    case 'gap':
      return { ...at, kind: 'gap', title: `gap ${e.msgType ?? ''}`.trim(), values: scalars(json(), 4) };
    case 'outcome':
      return { ...at, kind: 'outcome', title: 'outcome', values: scalars(json(), 6) };
    case 'lifecycle':
      return { ...at, kind: 'lifecycle', title: `lifecycle ${e.msgType ?? ''}`.trim(), values: scalars(json() ?? e.meta ?? undefined, 3) };
    default:
      return opts.all ? { ...at, kind: 'other', title: name, values: [] } : null;
  }
}

export function entriesOf(events: readonly EventView[], opts: { all?: boolean } = {}): Entry[] {
  const out: Entry[] = [];
  for (const e of events) {
    const en = entryOf(e, opts);
    if (en) out.push(en);
  }
  return out;
}
