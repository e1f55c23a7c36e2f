/** Shared by the pollers' integration tests (not part of the public API). */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CapturedFact, CaptureSink, HttpRequestFact, HttpResponseFact, NoteFact, CaptureTaskContext } from '@rewind/capture-facts';
import { waitFor as waitForCondition } from '@rewind/testing';

export class FactLog implements CaptureSink {
  readonly facts: CapturedFact[] = [];
  capture(fact: CapturedFact): void {
    this.facts.push(fact);
  }
  requests(): HttpRequestFact[] {
    return this.facts.filter((f): f is HttpRequestFact => f.type === 'http-request');
  }
  responses(): HttpResponseFact[] {
    return this.facts.filter((f): f is HttpResponseFact => f.type === 'http-response');
  }
  notes(msgType?: string): NoteFact[] {
    return this.facts.filter((f): f is NoteFact => f.type === 'note' && (msgType === undefined || f.msgType === msgType));
  }
  /** Recorded exchanges as request/response pairs (by connection id), in order. */
  exchanges(): { req: HttpRequestFact; res?: HttpResponseFact; json: any }[] {
    return this.requests().map((req) => {
      const res = this.responses().find((r) => r.connectionId === req.connectionId);
      let json: unknown;
      try {
        json = res ? JSON.parse(res.body.toString('utf8')) : undefined;
      } catch {
        json = undefined;
      }
      return { req, res, json };
    });
  }
}

export interface TestContext extends CaptureTaskContext {
  sink: FactLog;
  lines: string[];
  abort: AbortController;
}

export function testContext(): TestContext {
  const abort = new AbortController();
  const lines: string[] = [];
  const sink = new FactLog();
  return {
    sink,
    lines,
    abort,
    signal: abort.signal,
    log: { info: (l) => lines.push(`info ${l}`), warn: (l) => lines.push(`warn ${l}`), error: (l) => lines.push(`error ${l}`) },
  };
}

/** Waits until `cond()` is truthy: the one `waitFor` of `@rewind/testing` (its failure names what, how long and the last value), in these specs' argument order. */
export function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs?: number): Promise<NonNullable<T>> {
  return waitForCondition(what, cond, { timeoutMs, intervalMs: 10, until: Boolean }) as Promise<NonNullable<T>>;
}

/** What the relay answers instead of the platform. */
export interface Substitute {
  status: number;
  body: string;
  contentType?: string;
}

/**
 * An HTTP relay in front of the real simulator that replaces chosen answers (the simulator has no fault for
 * malformed bodies or 500s): `tamper(method, path, count)` returns the substitute or undefined to pass the
 * simulator's answer through. Every request is forwarded (so the simulator's state moves as it would).
 */
export async function startTamperingRelay(upstreamBase: string, tamper: (method: string, path: string) => Substitute | undefined): Promise<{ url: string; close(): Promise<void> }> {
  const up = new URL(upstreamBase);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = { ...req.headers, host: up.host };
      const upReq = http.request({ hostname: up.hostname, port: up.port, method: req.method, path: `${up.pathname.replace(/\/+$/, '')}${req.url ?? '/'}`, headers }, (upRes) => {
        const body: Buffer[] = [];
        upRes.on('data', (c: Buffer) => body.push(c));
        upRes.on('end', () => {
          const sub = tamper(req.method ?? 'GET', req.url ?? '/');
          if (sub) {
            res.writeHead(sub.status, { 'content-type': sub.contentType ?? 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(sub.body) });
            res.end(sub.body);
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.end(Buffer.concat(body));
        });
      });
      upReq.on('error', () => res.destroy());
      upReq.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const bearer = (headers: [string, string][]): string | undefined => {
  const v = headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  const m = v ? /^Bearer\s+(\S+)$/i.exec(v) : null;
  return m ? (m[1] as string) : undefined;
};

/**
 * What the recording proxy knows about one RGS session, from its facts: the latest token (launch URL, then
 * each refresh answer), when the agent last called with one of the session's tokens, the latest expiresAt.
 * The test stand-in for the recorder's session mapping.
 */
export class RgsSessionTracker implements CaptureSink {
  token: string | undefined;
  expiresAtMs: number | undefined;
  lastActivityAtMs = 0;
  private readonly tokens = new Set<string>();
  private readonly pending = new Map<string, HttpRequestFact>();

  constructor(
    /** Only launches for this game code. */
    private readonly gameCode: string,
    private readonly clock: () => number = Date.now,
  ) {}

  capture(fact: CapturedFact): void {
    if (fact.platform !== 'rgs') return;
    if (fact.type === 'http-request') {
      this.pending.set(fact.connectionId, fact);
      const t = bearer(fact.headers);
      if (t && this.tokens.has(t)) this.lastActivityAtMs = this.clock();
      return;
    }
    if (fact.type !== 'http-response') return;
    const req = this.pending.get(fact.connectionId);
    this.pending.delete(fact.connectionId);
    if (!req || fact.status !== 200) return;
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(fact.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    const path = req.path.split('?')[0];
    if (path === '/operator/launch' && typeof json['launchUrl'] === 'string') {
      const url = new URL(json['launchUrl']);
      if (url.searchParams.get('id') !== this.gameCode) return;
      this.adopt(url.searchParams.get('sessionToken') ?? undefined, json['expiresAt']);
    } else if (path === '/session/refresh') {
      const used = bearer(req.headers);
      if (used && this.tokens.has(used) && typeof json['sessionToken'] === 'string') this.adopt(json['sessionToken'], json['expiresAt']);
    }
  }

  private adopt(token: string | undefined, expiresAt: unknown): void {
    if (!token) return;
    this.tokens.add(token);
    this.token = token;
    if (typeof expiresAt === 'string') this.expiresAtMs = Date.parse(expiresAt);
    this.lastActivityAtMs = this.clock();
  }
}

/** Fans facts out to several sinks. */
export function teeSink(...sinks: CaptureSink[]): CaptureSink {
  return { capture: (f) => sinks.forEach((s) => s.capture(f)) };
}
