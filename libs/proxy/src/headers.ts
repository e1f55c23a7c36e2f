/** RFC 9110 §7.6.1 hop-by-hop headers (plus the legacy proxy ones): never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** WebSocket handshake headers the `ws` client regenerates for the upstream leg. */
const WS_HANDSHAKE = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept']);

function connectionTokens(raw: string[]): Set<string> {
  const named = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'connection') continue;
    for (const t of (raw[i + 1] as string).split(',')) if (t.trim()) named.add(t.trim().toLowerCase());
  }
  return named;
}

/**
 * Flat raw header list (as node gives it) minus hop-by-hop headers (and those the Connection header names),
 * optionally minus `drop` and with Host replaced. Case, order and duplicates of the rest are kept.
 */
export function forwardHeaders(raw: string[], opts: { host?: string; ws?: boolean } = {}): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  let hostDone = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    if (opts.ws && WS_HANDSHAKE.has(lower)) continue;
    if (lower === 'host') {
      if (opts.host === undefined) out.push(name, raw[i + 1] as string);
      else if (!hostDone) out.push(name, opts.host);
      hostDone = true;
      continue;
    }
    out.push(name, raw[i + 1] as string);
  }
  if (!hostDone && opts.host !== undefined) out.push('Host', opts.host);
  return out;
}

/** Flat list → object (duplicates become arrays), for APIs that only take objects. */
export function headersObject(flat: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const keyOf = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as string;
    const value = flat[i + 1] as string;
    const key = keyOf.get(name.toLowerCase());
    if (key === undefined) {
      keyOf.set(name.toLowerCase(), name);
      out[name] = value;
    } else {
      const prev = out[key] as string | string[];
      out[key] = Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
  }
  return out;
}
