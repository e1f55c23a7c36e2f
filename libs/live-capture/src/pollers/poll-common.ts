import { backoff } from '@rewind/backoff';
import { type CaptureSink, type NoteFact, CaptureTaskLogger, factClock, taskConnectionId } from '@rewind/capture-facts';
import type { PollExchange } from './http-exchange';

export type PolledPlatform = 'cloudplay' | 'rgs';

/**
 * Turns a poller's exchanges and statements into facts (`origin: 'poller'`, channel `poll` downstream): one
 * connection id per exchange, the request fact then the response fact, exact bytes. The sink must not throw;
 * if it does anyway the poller goes on (logged once).
 */
export class PollRecorder {
  recordedExchanges = 0;
  private sinkFailed = false;

  constructor(
    private readonly platform: PolledPlatform,
    private readonly sink: CaptureSink,
    private readonly log: CaptureTaskLogger,
  ) {}

  /** Records an exchange: request + response, or request only when it got no answer (the error is a marker). */
  exchange(ex: PollExchange): void {
    const connectionId = taskConnectionId('poll');
    this.recordedExchanges++;
    this.emit({ type: 'http-request', platform: this.platform, connectionId, origin: 'poller', ...ex.requestAt, method: ex.method, path: ex.path, headers: ex.requestHeaders, body: ex.requestBody });
    if (ex.response) {
      const r = ex.response;
      this.emit({ type: 'http-response', platform: this.platform, connectionId, origin: 'poller', ...r.at, status: r.status, headers: r.headers, body: r.body });
    }
  }

  note(kind: NoteFact['kind'], msgType: string, detail: Record<string, unknown>): void {
    this.emit({ type: 'note', platform: this.platform, connectionId: taskConnectionId('poll'), origin: 'poller', ...factClock(), kind, msgType, detail });
  }

  marker(msgType: string, detail: Record<string, unknown>): void {
    this.note('marker', msgType, detail);
  }

  private emit(fact: Parameters<CaptureSink['capture']>[0]): void {
    try {
      this.sink.capture(fact);
    } catch (e) {
      if (!this.sinkFailed) {
        this.sinkFailed = true;
        this.log.error(`${this.platform} poller: capture sink threw (${(e as Error)?.name ?? 'error'}); polling goes on, further sink errors are not logged`);
      }
    }
  }
}

/** Resolves after `ms`, or at once when `signal` fires; leaves no timer behind either way. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** First value of a header (case-insensitive) among raw pairs. */
export function headerValue(pairs: [string, string][], name: string): string | undefined {
  const lower = name.toLowerCase();
  return pairs.find(([k]) => k.toLowerCase() === lower)?.[1];
}

/**
 * `Retry-After` in ms: delta-seconds or an HTTP date (relative to `nowMs`, the wall clock); undefined when
 * absent or unparsable. Negative dates give 0.
 */
export function retryAfterMs(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  if (!Number.isFinite(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Exponential backoff: base × 2^(attempt−1), capped, no jitter (Rewind's one policy, `@rewind/backoff`). attempt starts at 1. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return backoff({ baseMs, maxMs })(attempt);
}

/** The body as JSON, or undefined when it is not valid JSON. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** `error` code of a platform error body (`{"error": "…"}`), if any. */
export function errorCode(body: Buffer): string | undefined {
  const j = parseJsonBody(body);
  return j && typeof j === 'object' && !Array.isArray(j) && typeof (j as Record<string, unknown>)['error'] === 'string' ? ((j as Record<string, unknown>)['error'] as string) : undefined;
}

/** The path without its query, for log lines (never a token: tokens travel in the Authorization header). */
export function routeOf(path: string): string {
  return path.split('?')[0] ?? path;
}
