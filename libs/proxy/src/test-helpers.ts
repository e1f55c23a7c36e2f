/** Shared by the proxy's integration tests (not part of the public API). */
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import { startSimulator, RunningSimulator, SimulatedPlatform } from '@rewind/simulator';
import type { TrafficEntry, TrafficLog } from '@rewind/agents';
import type { CapturedFact, CaptureSink, HttpRequestFact, HttpResponseFact, WsCloseFact, WsMessageFact, WsOpenFact } from '@rewind/capture-facts';
import { startRecordingProxy } from './server';
import type { RunningRecordingProxy } from './types';

export class RecordingSink implements CaptureSink {
  readonly facts: CapturedFact[] = [];
  /** Each `released` call: the socket, and how many facts had come before it. */
  readonly releases: { connectionId: string; afterFacts: number }[] = [];
  capture(fact: CapturedFact): void {
    this.facts.push(fact);
  }
  released(connectionId: string): void {
    this.releases.push({ connectionId, afterFacts: this.facts.length });
  }
  of<T extends CapturedFact['type']>(type: T): Extract<CapturedFact, { type: T }>[] {
    return this.facts.filter((f) => f.type === type) as Extract<CapturedFact, { type: T }>[];
  }
}

/**
 * A simulator clock that advances a fixed step on every read, from a fixed origin: timestamps in bodies
 * (issuedAt, createdAt, expiresAt, serverTime…) then depend only on the sequence of requests, not on the wall
 * clock, so two runs with the same seed are byte-identical. Game ticks still run on real timers.
 */
export function steppingClock(stepMs = 1000, originMs = Date.UTC(2026, 0, 1)): () => number {
  let t = originMs;
  return () => (t += stepMs);
}

export interface Rig {
  sim: RunningSimulator;
  proxy: RunningRecordingProxy;
  sink: RecordingSink;
  /** The platform's base URL: direct (simulator) or through the proxy. */
  base: string;
}

/** A fresh simulator (+ a proxy in front of it when `viaProxy`), torn down after `fn`. */
export interface RigOptions {
  seed: string;
  platform: SimulatedPlatform;
  viaProxy: boolean;
  now?: () => number;
  platformOptions?: Record<string, Record<string, unknown>>;
  sink?: CaptureSink;
}

export async function withRig<T>(o: RigOptions, fn: (rig: Rig) => Promise<T>): Promise<T> {
  const sim = await startSimulator({ port: 0, seed: o.seed, now: o.now, platformOptions: o.platformOptions });
  const sink = new RecordingSink();
  const proxy = await startRecordingProxy({ port: 0, upstreams: { [o.platform]: sim.baseUrl(o.platform) }, sink: o.sink ?? sink });
  try {
    return await fn({ sim, proxy, sink, base: o.viaProxy ? `${proxy.url}/${o.platform}` : sim.baseUrl(o.platform) });
  } finally {
    await proxy.close();
    await sim.close();
  }
}

/** Traffic without the bot's wall-clock stamps, with the simulator's own URL (it differs per run) masked. */
export function comparable(traffic: TrafficLog, simUrl: string): Omit<TrafficEntry, 'atMs'>[] {
  const mask = (s: string): string => s.split(simUrl).join('<sim>');
  return traffic.entries.map(({ atMs: _atMs, ...e }) => ({ ...e, data: typeof e.data === 'string' ? mask(e.data) : e.data }));
}

const isClose = (e: TrafficEntry): boolean => e.data === '' && e.meta !== undefined && ('close' in e.meta || e.meta['event'] === 'close');
const asBytes = (d: string | Buffer): Buffer => (typeof d === 'string' ? Buffer.from(d, 'utf8') : d);

/**
 * The facts equal what the bot logged: per WebSocket connection (in open order ↔ the bot's ws streams in first-use
 * order) the same payload bytes in each direction, in order, with the same text/binary kind, and the same close
 * code/reason; per HTTP exchange (in order) the same method, path+query, request body bytes, status and response
 * body bytes. Returns counts for sanity checks.
 */
export function expectFactsMatchTraffic(facts: CapturedFact[], traffic: TrafficLog): { wsMessages: number; httpExchanges: number } {
  let wsMessages = 0;
  // --- WebSocket
  const wsStreams = [...new Set(traffic.entries.filter((e) => e.channel === 'ws').map((e) => e.stream))];
  const opens = facts.filter((f): f is WsOpenFact => f.type === 'ws-open');
  expect(opens.map((f) => f.connectionId)).toHaveLength(wsStreams.length);
  wsStreams.forEach((stream, i) => {
    const id = opens[i]!.connectionId;
    const mine = facts.filter((f) => f.connectionId === id);
    expect(mine[0]!.type).toBe('ws-open');
    expect(mine[mine.length - 1]!.type).toBe('ws-close');
    const entries = traffic.of(stream);
    const msgs = mine.filter((f): f is WsMessageFact => f.type === 'ws-message');
    const view = (dir: WsMessageFact['direction']) => msgs.filter((m) => m.direction === dir).map((m) => ({ binary: m.binary, bytes: asBytes(m.data) }));
    const logged = (dir: 'sent' | 'received') => entries.filter((e) => e.direction === dir && !isClose(e)).map((e) => ({ binary: typeof e.data !== 'string', bytes: asBytes(e.data) }));
    expect(view('client_to_platform')).toEqual(logged('sent'));
    expect(view('platform_to_client')).toEqual(logged('received'));
    wsMessages += msgs.length;
    const close = mine.find((f): f is WsCloseFact => f.type === 'ws-close')!;
    const botClose = entries.find(isClose)!;
    expect({ code: close.code, reason: close.reason }).toEqual({ code: botClose.meta!['code'], reason: botClose.meta!['reason'] });
  });
  // --- HTTP
  const reqs = facts.filter((f): f is HttpRequestFact => f.type === 'http-request');
  const exchanges = reqs.map((r) => {
    const res = facts.find((f): f is HttpResponseFact => f.type === 'http-response' && f.connectionId === r.connectionId)!;
    expect(facts.indexOf(res)).toBeGreaterThan(facts.indexOf(r));
    return { method: r.method, path: r.path, body: r.body, status: res.status, resBody: res.body };
  });
  const http = traffic.entries.filter((e) => e.channel === 'http');
  const botExchanges: typeof exchanges = [];
  for (let i = 0; i < http.length; i += 2) {
    const sent = http[i]!;
    const received = http[i + 1]!;
    expect(sent.direction).toBe('sent');
    expect(received.direction).toBe('received');
    botExchanges.push({ method: String(sent.meta!['method']), path: String(sent.meta!['path']), body: asBytes(sent.data), status: Number(received.meta!['status']), resBody: asBytes(received.data) });
  }
  expect(exchanges).toEqual(botExchanges);
  return { wsMessages, httpExchanges: exchanges.length };
}

/**
 * Writes raw bytes on a fresh TCP connection and returns everything answered (latin1) until the server closes
 * or `timeoutMs` passes; `destroyAfterWrite` resets the connection 50 ms after the write.
 */
export function rawExchange(port: number, data: string | Buffer, opts: { timeoutMs?: number; destroyAfterWrite?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(data);
      if (opts.destroyAfterWrite) setTimeout(() => s.destroy(), 50);
    });
    const chunks: Buffer[] = [];
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => undefined);
    const done = (): void => resolve(Buffer.concat(chunks).toString('latin1'));
    s.on('close', done);
    setTimeout(() => {
      s.destroy();
      done();
    }, opts.timeoutMs ?? 2000).unref();
  });
}

/** The status code of a raw HTTP/1.1 answer (0 when there is none). */
export const statusOf = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);

/** The `Sec-WebSocket-Accept` value for a client's key (RFC 6455). */
export const wsAccept = (key: string): string => createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/**
 * A raw WebSocket upstream's side of one connection: reads the upgrade request, answers 101 by hand, then hands over
 * the bytes that came after the request head (`rest`); from then on the socket is the caller's.
 */
export function answerUpgradeByHand(s: net.Socket, opened: (rest: Buffer) => void): void {
  s.on('error', () => undefined);
  let head = Buffer.alloc(0);
  const onHead = (c: Buffer): void => {
    head = Buffer.concat([head, c]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    s.off('data', onHead);
    const key = /sec-websocket-key: *(\S+)/i.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? '';
    s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${wsAccept(key)}\r\n\r\n`);
    opened(head.subarray(end + 4));
  };
  s.on('data', onHead);
}
