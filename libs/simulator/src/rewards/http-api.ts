import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { bearerToken, sendJson, sendCodedError } from '../core/http';
import { RewardsError } from './errors';
import { numberParam, RewardsFaults } from './faults';
import type { RewardsOptions } from './options';
import type { Handoff, HandoffStore } from './store';

/** Past this, an oversized body is not drained any more: the connection is closed after the 413. */
const DRAIN_LIMIT = 4 * 1024 * 1024;
const KEY_SHAPE = /^[\x20-\x7e]{1,200}$/;
/** `timeout` fault without `ms`. */
const DEFAULT_TIMEOUT_MS = 30_000;

export interface RewardsApiDeps {
  store: HandoffStore;
  faults: RewardsFaults;
  options: RewardsOptions;
  log: (line: string) => void;
}

interface Held {
  timer: NodeJS.Timeout;
  socket: Socket;
  resolve: () => void;
}

/**
 * The reward-handoff endpoint under `/rewards`: `POST /handoffs` (the pipeline's one real operation) and
 * the test helpers `GET /handoffs`, `GET /handoffs/{id}`, `DELETE /handoffs`. See docs/simulator/rewards.md.
 */
export class RewardsHttpApi {
  private readonly held = new Set<Held>();

  constructor(private readonly deps: RewardsApiDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      const pathname = new URL(path, 'http://simulator').pathname.replace(/(.)\/+$/, '$1');
      if (pathname === '/handoffs') {
        if (req.method === 'POST') return await this.receive(req, res);
        req.resume();
        if (req.method === 'GET') return sendJson(res, 200, { handoffs: this.deps.store.list().map(view) });
        if (req.method === 'DELETE') return sendJson(res, 200, { cleared: this.deps.store.clear() });
        throw new RewardsError('method_not_allowed', `${pathname} accepts GET, POST and DELETE only`, { allow: 'GET, POST, DELETE' });
      }
      const m = /^\/handoffs\/([^/]+)$/.exec(pathname);
      req.resume();
      if (!m) throw new RewardsError('not_found', `no such endpoint: ${req.method} ${pathname}`);
      if (req.method !== 'GET') throw new RewardsError('method_not_allowed', '/handoffs/{id} accepts GET only', { allow: 'GET' });
      const handoff = this.deps.store.get(safeDecode(m[1] as string));
      if (!handoff) throw new RewardsError('not_found', `no handoff ${m[1]}`);
      sendJson(res, 200, view(handoff));
    } catch (e) {
      if (!(e instanceof RewardsError)) throw e;
      this.deps.log(`${req.method} ${path.split('?')[0]} → ${e.status} ${e.code}: ${e.message}`);
      sendCodedError(res, e);
    }
  }

  /**
   * POST /handoffs: authentication (401) → Idempotency-Key (400) → body (413, 400) → faults → record
   * (201 new, 200 duplicate, 409 conflict). Error answers are thrown as RewardsError.
   */
  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { apiKey } = this.deps.options;
    if (apiKey !== undefined) {
      if (req.headers.authorization === undefined) {
        req.resume();
        throw new RewardsError('unauthorized', 'authentication required: send Authorization: Bearer <api key>', { 'www-authenticate': 'Bearer realm="rewards"' });
      }
      if (bearerToken(req) !== apiKey) {
        req.resume();
        throw new RewardsError('unauthorized', 'invalid api key', { 'www-authenticate': 'Bearer realm="rewards", error="invalid_token"' });
      }
    }
    const key = req.headers['idempotency-key'];
    if (key === undefined || key === '') {
      req.resume();
      throw new RewardsError('missing_idempotency_key', 'the Idempotency-Key header is required');
    }
    if (typeof key !== 'string' || !KEY_SHAPE.test(key)) {
      req.resume();
      throw new RewardsError('invalid_idempotency_key', 'Idempotency-Key must be 1 to 200 printable ASCII characters');
    }
    const read = await readObject(req, this.deps.options.maxBodyBytes);
    if (read.error) {
      if (read.closeAfter) read.error.headers['connection'] = 'close';
      throw read.error;
    }
    const body = read.body as Record<string, unknown>;

    const fault = this.deps.faults.next(key);
    if (fault?.fault === 'timeout') {
      const commit = fault.params['commit'] === true;
      if (commit) this.deps.store.receive(key, body);
      const ms = numberParam(fault.params, 'ms', DEFAULT_TIMEOUT_MS);
      this.deps.log(`POST /handoffs key=${key} → held ${ms} ms, then socket destroyed (fault timeout${commit ? ', committed' : ''})`);
      return this.hold(req, res, ms);
    }
    if (fault?.fault === 'status-500') throw new RewardsError('internal', 'internal error (injected fault)');
    if (fault?.fault === 'status-503') {
      const retryAfter = fault.params['retryAfter'];
      const headers: Record<string, string> = typeof retryAfter === 'number' ? { 'retry-after': String(Math.ceil(numberParam(fault.params, 'retryAfter', 0))) } : {};
      throw new RewardsError('unavailable', 'service temporarily unavailable (injected fault)', headers);
    }

    const result = this.deps.store.receive(key, body);
    if (result.kind === 'conflict') {
      throw new RewardsError('idempotency_conflict', `Idempotency-Key "${key}" was already used with a different body (handoff ${result.handoff.id})`);
    }
    const h = result.handoff;
    this.deps.log(`POST /handoffs key=${key} → ${result.kind === 'created' ? 201 : 200} ${h.id}${result.kind === 'duplicate' ? ` (delivery ${h.deliveries})` : ''}`);
    sendJson(res, result.kind === 'created' ? 201 : 200, { id: h.id, idempotencyKey: h.idempotencyKey, receivedAt: h.receivedAt, duplicate: result.kind === 'duplicate' });
  }

  /** Holds the request `ms` without answering, then destroys its socket; ends early if the client goes away. */
  private hold(req: IncomingMessage, res: ServerResponse, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry: Held = {
        socket: req.socket,
        resolve,
        timer: setTimeout(() => {
          this.held.delete(entry);
          req.socket.destroy();
          resolve();
        }, ms),
      };
      this.held.add(entry);
      res.once('close', () => {
        clearTimeout(entry.timer);
        this.held.delete(entry);
        resolve();
      });
    });
  }

  /** Destroys the held requests' sockets and stops their timers. */
  close(): void {
    for (const h of this.held) {
      clearTimeout(h.timer);
      h.socket.destroy();
      h.resolve();
    }
    this.held.clear();
  }
}

function view(h: Handoff): Handoff {
  return { id: h.id, idempotencyKey: h.idempotencyKey, receivedAt: h.receivedAt, body: h.body, deliveries: h.deliveries };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Reads a JSON object body: 413 over `limit` (drained up to 4 MiB, so the client reads the answer), 400 otherwise bad. */
async function readObject(req: IncomingMessage, limit: number): Promise<{ body?: Record<string, unknown>; error?: RewardsError; closeAfter?: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > DRAIN_LIMIT) return { error: tooLarge(limit), closeAfter: true };
      if (size <= limit) chunks.push(chunk as Buffer);
    }
  } catch {
    return { error: new RewardsError('invalid_body', 'request body could not be read'), closeAfter: true };
  }
  if (size > limit) return { error: tooLarge(limit) };
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { error: new RewardsError('invalid_body', text.trim() === '' ? 'request body is required' : `request body is not valid JSON: ${(e as Error).message}`) };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { error: new RewardsError('invalid_body', 'request body must be a JSON object') };
  return { body: parsed as Record<string, unknown> };
}

function tooLarge(limit: number): RewardsError {
  return new RewardsError('payload_too_large', `request body is larger than ${limit} bytes`);
}
