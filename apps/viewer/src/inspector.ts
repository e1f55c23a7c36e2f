/** The event inspector: one event's raw body and its parsed JSON. */
import { bodyText, EventHead, formatOffset, parseJson } from './events.js';
import { clear, h } from './dom.js';

/** What the inspector shows of an event (REST event or WS envelope). */
export interface InspectedEvent extends EventHead {
  tick?: number | null;
  format?: string | null;
  body: string | null;
  encoding: string | null;
  meta?: Record<string, unknown> | null;
  hash?: string;
  requestId?: string | null;
  recordedAt?: string;
}

export interface InspectorView {
  title: string;
  fields: [string, string][];
  raw: string;
  parsed: string | null;
}

const RAW_LIMIT = 20_000;

/** The text the inspector shows (pure). */
export function describeEvent(e: InspectedEvent): InspectorView {
  const raw = bodyText(e.body, e.encoding);
  const json = parseJson(raw);
  const fields: [string, string][] = [];
  const put = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') fields.push([k, String(v)]);
  };
  put('seq', e.seq);
  put('offset', `${formatOffset(e.offsetUs)} (${e.offsetUs} µs)`);
  put('kind', e.kind);
  put('direction', e.direction);
  put('channel', e.channel);
  put('msgType', e.msgType);
  put('tick', e.tick);
  put('format', e.format);
  put('encoding', e.encoding);
  put('requestId', e.requestId);
  put('recordedAt', e.recordedAt);
  put('hash', e.hash);
  if (e.meta) put('meta', JSON.stringify(e.meta));
  return {
    title: `#${e.seq} ${e.kind}${e.msgType ? ` · ${e.msgType}` : ''}`,
    fields,
    raw: raw.length > RAW_LIMIT ? `${raw.slice(0, RAW_LIMIT)}\n… (${raw.length - RAW_LIMIT} more characters)` : raw,
    parsed: json === undefined ? null : JSON.stringify(json, null, 2),
  };
}

export class Inspector {
  private pinned = false;
  private shownSeq = -1;

  constructor(
    private readonly el: HTMLElement,
    private readonly onSeek: (seq: number) => void,
  ) {
    this.empty();
  }

  private empty(): void {
    clear(this.el);
    this.el.append(h('h2', {}, 'Event inspector'), h('p', { class: 'muted' }, 'The last event played shows here; click an event in the list to pin it.'));
  }

  /** The event playback just reached (ignored while one is pinned). */
  follow(e: InspectedEvent): void {
    if (!this.pinned) this.show(e);
  }

  /** An event picked from the list: shown until "follow playback". */
  pin(e: InspectedEvent): void {
    this.pinned = true;
    this.show(e);
  }

  get seq(): number {
    return this.shownSeq;
  }

  private show(e: InspectedEvent): void {
    this.shownSeq = e.seq;
    const v = describeEvent(e);
    clear(this.el);
    const head = h('div', { class: 'inspector-head' }, h('h2', {}, v.title));
    if (this.pinned) {
      const follow = h('button', { type: 'button', class: 'small', 'data-testid': 'inspector-follow' }, 'follow playback');
      follow.addEventListener('click', () => {
        this.pinned = false;
        follow.remove();
      });
      const seek = h('button', { type: 'button', class: 'small', 'data-testid': 'inspector-seek' }, 'seek here');
      seek.addEventListener('click', () => this.onSeek(e.seq));
      head.append(seek, follow);
    }
    const dl = h('dl', { class: 'fields' });
    for (const [k, val] of v.fields) dl.append(h('dt', {}, k), h('dd', {}, val));
    this.el.append(head, dl);
    this.el.append(h('h3', {}, 'Parsed'), h('pre', { class: 'parsed', 'data-testid': 'inspector-parsed' }, v.parsed ?? '(not JSON)'));
    this.el.append(h('h3', {}, 'Raw body'), h('pre', { class: 'raw', 'data-testid': 'inspector-raw' }, v.raw || '(empty)'));
  }
}
