/** Test support (not public API): compare what the event store holds with what a bot logged of its own traffic. */
import type { TrafficEntry, TrafficLog } from '@rewind/agents';
import type { EventStore, StoredEvent } from '@rewind/event-store';
import type { Redactor } from '@rewind/redaction';

export async function readStreams(store: EventStore, ids: readonly string[]): Promise<Map<string, StoredEvent[]>> {
  const out = new Map<string, StoredEvent[]>();
  for (const id of ids) {
    const events: StoredEvent[] = [];
    for await (const e of store.readSession(id)) events.push(e);
    out.set(id, events);
  }
  return out;
}

const text = (b: string | Buffer | null): string => (b === null ? '' : typeof b === 'string' ? b : b.toString('latin1'));

/**
 * A WebSocket conversation split by direction, each in its order: what can be required of a recording. The
 * interleaving of the two directions cannot: a frame the platform sends while the agent's input is in flight is
 * seen in a different relative order by the bot and by the proxy between them (common on a busy machine).
 */
export function byDirection(lines: readonly string[]): { sent: string[]; received: string[] } {
  return { sent: lines.filter((l) => l.startsWith('sent ')), received: lines.filter((l) => !l.startsWith('sent ')) };
}

/** WebSocket messages as [direction, body] in order: stored (concatenated streams) and as the bot saw them (redacted). */
export function wsSequences(
  streams: Map<string, StoredEvent[]>,
  traffic: TrafficLog,
  redactor: Redactor,
  channel: 'play_ws' | 'spectate_ws' = 'play_ws',
  botStreams: (name: string) => boolean = (n) => !/spectate/.test(n),
): { stored: string[]; bot: string[] } {
  const stored: string[] = [];
  for (const events of streams.values()) {
    for (const e of events) {
      if (e.channel !== channel || e.direction === 'internal' || e.kind === 'lifecycle') continue;
      stored.push(`${e.direction === 'client_to_platform' ? 'sent' : 'received'} ${text(e.body)}`);
    }
  }
  const bot = traffic.entries
    .filter((t: TrafficEntry) => t.channel === 'ws' && botStreams(t.stream) && !(t.meta && (t.meta['event'] === 'close' || t.meta['close'] === true)))
    .map((t) => `${t.direction} ${typeof t.data === 'string' ? redactor.redactText(t.data) : redactor.redactBinary(t.data).toString('latin1')}`);
  return { stored, bot };
}

/**
 * HTTP exchanges as sorted `METHOD path → status | request body | response body` lines: stored vs bot (redacted).
 * An answer the proxy gave itself (the platform unreachable: a `proxy-error` marker with `answeredBy: proxy`)
 * counts as the exchange's response: it is what the bot received. A request with no answer at all counts as
 * `→ undefined` with an empty response body, as the bot logs an exchange that failed without an answer.
 */
export function httpExchanges(streams: Map<string, StoredEvent[]>, traffic: TrafficLog, redactor: Redactor): { stored: string[]; bot: string[] } {
  const requests = new Map<string, StoredEvent>();
  const answered = new Set<StoredEvent>();
  const stored: string[] = [];
  for (const events of streams.values()) {
    for (const e of events) {
      if (e.channel !== 'http') continue;
      if (e.kind === 'request' && e.requestId) requests.set(e.requestId, e);
      const proxyAnswer =
        e.kind === 'marker' && e.msgType === 'proxy-error' && e.requestId !== null && requests.has(e.requestId) && (JSON.parse(e.meta ?? '{}') as { answeredBy?: string }).answeredBy === 'proxy';
      if ((e.kind === 'response' || proxyAnswer) && e.requestId) {
        const req = requests.get(e.requestId);
        const rm = JSON.parse(req?.meta ?? '{}') as { method?: string; path?: string };
        const sm = JSON.parse(e.meta ?? '{}') as { status?: number };
        stored.push(`${rm.method} ${rm.path} → ${sm.status} | ${text(req?.body ?? null)} | ${text(e.body)}`);
        if (req) answered.add(req);
      }
    }
  }
  // A request the proxy received that got no answer (the client went away before it, or the platform dropped the
  // connection mid-answer: a proxy-error marker, no response) is an exchange too, with no status and no response body:
  // what a bot logs of an exchange whose answer never came (a transport error, `meta.error`).
  for (const req of requests.values()) {
    if (answered.has(req)) continue;
    const rm = JSON.parse(req.meta ?? '{}') as { method?: string; path?: string };
    stored.push(`${rm.method} ${rm.path} → undefined | ${text(req.body)} | `);
  }
  const bot: string[] = [];
  const pending: TrafficEntry[] = [];
  for (const t of traffic.entries) {
    if (t.channel !== 'http') continue;
    if (t.direction === 'sent') pending.push(t);
    else {
      const i = pending.findIndex((p) => p.stream === t.stream);
      const req = i >= 0 ? pending.splice(i, 1)[0] : undefined;
      const path = String(t.meta?.['path'] ?? req?.meta?.['path'] ?? '');
      const body = (d: string | Buffer | undefined) => (d === undefined ? '' : typeof d === 'string' ? redactor.redactText(d) : redactor.redactBinary(d).toString('latin1'));
      bot.push(`${String(t.meta?.['method'] ?? req?.meta?.['method'])} ${redactor.redactUrl(path)} → ${String(t.meta?.['status'])} | ${body(req?.data)} | ${body(t.data)}`);
    }
  }
  return { stored: stored.sort(), bot: bot.sort() };
}

/** Every credential that appears in what a bot sent or received: token-ish JSON values and URL parameters. */
export function secretsIn(traffic: TrafficLog, extra: string[] = []): string[] {
  const found = new Set(extra);
  const walk = (v: unknown, key = ''): void => {
    if (typeof v === 'string' && /token|password|secret|apikey|registration_code/i.test(key) && v.length >= 8) found.add(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, key === 'session' && k === 'id' ? 'session_id_token' : k);
  };
  for (const e of traffic.entries) {
    const text = typeof e.data === 'string' ? e.data : e.data.toString('utf8');
    for (const line of text.split('\n')) {
      try {
        walk(JSON.parse(line));
      } catch {
        // not JSON
      }
    }
    for (const m of text.matchAll(/[?&](sessionToken|token)=([^&"\s]+)/g)) found.add(decodeURIComponent(m[2] as string));
  }
  return [...found];
}
