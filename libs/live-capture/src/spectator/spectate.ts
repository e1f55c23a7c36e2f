/**
 * The MoltStation spectator capture task: watches one platform session through a spectate socket of its own
 * and records everything it exchanges as facts (`origin: 'spectator'`). See docs/capture/spectator.md.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { moltstation } from '@rewind/platforms';
import { type CapturedFact, type NoteFact, CaptureTaskContext, CaptureTaskResult, factClock, taskConnectionId } from '@rewind/capture-facts';
import { backoffDelay, RetryPolicy } from './backoff';
import { httpExchange, isAbortError, joinUrl, pairs, sleep } from './http';
import { getMoltStationSessionDetail } from './live-list';

export interface SpectateMoltStationOptions {
  /** The platform's base URL, e.g. `http://127.0.0.1:4100/moltstation` (the WS base is derived: http→ws). */
  baseUrl: string;
  /** `flappybots` | `shellrunners`. */
  slug: string;
  platformSessionId: string;
  /** Backoff of SPECTATORS_FULL refusals and of repeated connection failures. */
  retry?: RetryPolicy;
  /** `message` (default): first message `{"t":"auth","token":…}`; `query`: `?token=` in the URL. */
  authStyle?: 'message' | 'query';
  /** After the final `phase:"ended"` frame, close the socket ourselves if the platform has not within this. Default 5000 ms. */
  finalCloseTimeoutMs?: number;
  /**
   * An open spectate socket that has brought no frame for this long asks the session's detail
   * (`GET …/sessions/{id}`), and again at this interval while the silence lasts: a session the detail calls
   * `ended` (or no longer knows) ends the task (`session_ended` / `not_found`, marker `session-ended` via
   * `detail`) even if the socket never closes. The platform documents no end message for a spectator that
   * attached around the run's end, and its cleanup of sessions never played is unknown. Default 10000 ms.
   */
  silenceCheckMs?: number;
  /**
   * No frame for this long (since the task started or since its last frame) while the detail still calls the
   * session live or `created` (e.g. an agent that started a session and never opened its play socket): the task
   * ends with reason `inactive` (marker `session-ended` via `silence`), so its stream is ended and sealed like
   * every other. Tie it to the run idle time (a run silent that long is ended idle). Default 30 min.
   */
  maxSilenceMs?: number;
  /** HTTP request / WebSocket handshake timeout. Default 10000 ms. */
  requestTimeoutMs?: number;
  /** Jitter source (tests). Default Math.random. */
  random?: () => number;
}

/**
 * How the task ended: `game_over` / `exit` (the wire said so), `session_ended` (detail / token refusal said so),
 * `not_found`, `inactive` (no frame for `maxSilenceMs` while the platform still calls the session live or created).
 */
export type SpectateEndReason = 'game_over' | 'exit' | 'session_ended' | 'not_found' | 'inactive';

export interface SpectateSummary {
  /** Frames recorded (all sockets). */
  frames: number;
  /** Sockets opened after an earlier one was lost or refused. */
  reconnects: number;
  /** SPECTATORS_FULL refusals (HTTP 409 and close 4429). */
  spectatorsFullRetries: number;
  /** Tick of the last frame recorded (null: none). */
  lastTick: number | null;
  /** Spectate sockets attempted. */
  connections: number;
  /** Text messages that were not JSON (recorded anyway). */
  malformedMessages: number;
  /** Gap notes emitted. */
  gaps: number;
}

interface PendingGap {
  reason: string;
  lastTick: number | null;
  closeCode: number | null;
  /** Every close / failure between the last frame and the next one. */
  causes: { reason: string; closeCode: number | null }[];
}

type TokenOutcome =
  | { kind: 'token'; token: string }
  | { kind: 'full'; connectionId: string; spectatorsCurrent: number | null; spectatorsMax: number | null }
  | { kind: 'ended'; reason: SpectateEndReason }
  | { kind: 'error'; message: string; retryAfterMs?: number }
  | { kind: 'aborted' };

type EndVia = 'wire' | 'token' | 'detail' | 'silence';

type SocketOutcome = { kind: 'ended'; reason: SpectateEndReason; via: EndVia } | { kind: 'aborted' } | { kind: 'retry'; reason: string; closeCode: number | null; gotFrames: boolean; full: boolean };

const TOKEN_PATH = (slug: string, id: string): string => `/api/games/${encodeURIComponent(slug)}/sessions/${encodeURIComponent(id)}/spectate-token-public`;

/**
 * Spectates one MoltStation session until it is over (`{status:'ended'}`) or `ctx.signal` aborts
 * (`{status:'aborted'}`). Never throws for platform misbehaviour; never logs token characters.
 */
export function spectateMoltStation(options: SpectateMoltStationOptions, ctx: CaptureTaskContext): Promise<CaptureTaskResult> {
  return new SpectateTask(options, ctx).run();
}

class SpectateTask {
  private readonly base: string;
  private readonly wsBase: string;
  private readonly label: string;
  private readonly secrets = new Set<string>();
  private readonly summary: SpectateSummary = { frames: 0, reconnects: 0, spectatorsFullRetries: 0, lastTick: null, connections: 0, malformedMessages: 0, gaps: 0 };
  private pendingGap: PendingGap | undefined;
  private sinkFailed = false;
  private endMarked = false;
  /** When the task started or last recorded a frame (ms since epoch): the silence bound counts from it. */
  private lastFrameAtMs = Date.now();

  constructor(
    private readonly opts: SpectateMoltStationOptions,
    private readonly ctx: CaptureTaskContext,
  ) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.wsBase = this.base.replace(/^http/i, 'ws');
    this.label = `spectate ${opts.slug}/${opts.platformSessionId}`;
    if (ctx.resumed) {
      this.pendingGap = { reason: 'takeover', lastTick: ctx.resumed.lastTick, closeCode: null, causes: [{ reason: 'takeover', closeCode: null }] };
    }
  }

  async run(): Promise<CaptureTaskResult> {
    let fullAttempt = 0;
    let failStreak = 0;
    this.log('info', `${this.label}: starting${this.ctx.resumed ? ` (take-over, last tick ${this.ctx.resumed.lastTick ?? '-'})` : ''}`);
    for (;;) {
      if (this.ctx.signal.aborted) return this.aborted();
      let delay: number;
      try {
        const tok = await this.requestToken();
        if (tok.kind === 'aborted') return this.aborted();
        if (tok.kind === 'ended') return this.ended(tok.reason, 'token');
        if (tok.kind === 'full') {
          fullAttempt++;
          this.summary.spectatorsFullRetries++;
          delay = backoffDelay(fullAttempt, this.opts.retry, this.opts.random);
          this.note(tok.connectionId, 'marker', 'spectators-full', {
            attempt: fullAttempt,
            retryInMs: delay,
            spectatorsCurrent: tok.spectatorsCurrent,
            spectatorsMax: tok.spectatorsMax,
          });
          this.log('info', `${this.label}: SPECTATORS_FULL (${tok.spectatorsCurrent ?? '?'}/${tok.spectatorsMax ?? '?'}), attempt ${fullAttempt}, retry in ${delay} ms`);
        } else if (tok.kind === 'error') {
          failStreak++;
          delay = Math.max(backoffDelay(failStreak, this.opts.retry, this.opts.random), tok.retryAfterMs ?? 0);
          this.log('warn', `${this.label}: no spectate token (${tok.message}), retry in ${delay} ms`);
        } else {
          const out = await this.runSocket(tok.token);
          if (out.kind === 'aborted') return this.aborted();
          if (out.kind === 'ended') return this.ended(out.reason, out.via);
          if (out.gotFrames) {
            failStreak = 0;
            fullAttempt = 0;
          }
          failStreak++;
          this.summary.reconnects++;
          if (out.full) {
            fullAttempt++;
            this.summary.spectatorsFullRetries++;
          }
          if (!this.pendingGap) this.pendingGap = { reason: out.reason, lastTick: this.summary.lastTick, closeCode: out.closeCode, causes: [] };
          this.pendingGap.causes.push({ reason: out.reason, closeCode: out.closeCode });
          // A token problem or a dropped socket: reconnect at once; repeated failures back off.
          delay = out.full ? backoffDelay(fullAttempt, this.opts.retry, this.opts.random) : failStreak <= 1 ? 0 : backoffDelay(failStreak - 1, this.opts.retry, this.opts.random);
          if (out.full) {
            this.note(taskConnectionId('spectate'), 'marker', 'spectators-full', { attempt: fullAttempt, retryInMs: delay, spectatorsCurrent: null, spectatorsMax: null, closeCode: out.closeCode });
          }
          this.log('info', `${this.label}: socket lost (${out.reason}${out.closeCode !== null ? ` ${out.closeCode}` : ''}), reconnecting${delay ? ` in ${delay} ms` : ''}`);
        }
      } catch (e) {
        // Defensive: nothing above should throw; keep the task alive rather than lose the stream.
        if (this.ctx.signal.aborted) return this.aborted();
        failStreak++;
        delay = backoffDelay(failStreak, this.opts.retry, this.opts.random);
        this.log('error', `${this.label}: unexpected error (${(e as Error)?.message ?? e}), retry in ${delay} ms`);
      }
      if (delay > 0 && !(await sleep(delay, this.ctx.signal))) return this.aborted();
      const state = await this.sessionState();
      if (state === 'aborted') return this.aborted();
      if (state === 'ended') return this.ended('session_ended', 'detail');
      if (state === 'not_found') return this.ended('not_found', 'detail');
      if (this.silentForMs() >= this.maxSilenceMs) return this.ended('inactive', 'silence');
    }
  }

  // ---- outcomes --------------------------------------------------------------------------------------

  private aborted(): CaptureTaskResult {
    this.log('info', `${this.label}: aborted after ${this.summary.frames} frame(s)`);
    return { status: 'aborted' };
  }

  private get maxSilenceMs(): number {
    return this.opts.maxSilenceMs ?? 30 * 60_000;
  }

  private silentForMs(): number {
    return Date.now() - this.lastFrameAtMs;
  }

  private ended(reason: SpectateEndReason, via: EndVia): CaptureTaskResult {
    if (this.pendingGap) {
      // Interrupted and the session ended before another frame came: state the gap anyway (no next tick).
      this.emitGap(taskConnectionId('spectate'), null);
    }
    if (via !== 'wire' && !this.endMarked) {
      this.endMarked = true;
      this.note(taskConnectionId('spectate'), 'marker', 'session-ended', { reason, via, lastTick: this.summary.lastTick, ...(via === 'silence' ? { silentMs: this.silentForMs() } : {}) });
    }
    this.log('info', `${this.label}: ended (${reason}) — ${this.summary.frames} frame(s), ${this.summary.reconnects} reconnect(s), ${this.summary.spectatorsFullRetries} SPECTATORS_FULL retr(ies)`);
    return { status: 'ended', reason, summary: { ...this.summary } };
  }

  /** Between attempts: is the session still there and not over? Unknown (errors) counts as live. */
  private async sessionState(): Promise<'live' | 'ended' | 'not_found' | 'aborted' | 'unknown'> {
    try {
      const d = await getMoltStationSessionDetail(this.base, this.opts.slug, this.opts.platformSessionId, {
        signal: this.ctx.signal,
        timeoutMs: this.opts.requestTimeoutMs ?? 10_000,
      });
      if (!d.found) return 'not_found';
      return d.status === 'ended' ? 'ended' : 'live';
    } catch (e) {
      if (isAbortError(e) || this.ctx.signal.aborted) return 'aborted';
      this.log('warn', `${this.label}: session detail failed (${(e as Error).message})`);
      return 'unknown';
    }
  }

  // ---- token -----------------------------------------------------------------------------------------

  private async requestToken(): Promise<TokenOutcome> {
    const connectionId = taskConnectionId('spectate');
    const path = TOKEN_PATH(this.opts.slug, this.opts.platformSessionId);
    const body = Buffer.alloc(0);
    let res;
    try {
      res = await httpExchange({
        method: 'POST',
        url: joinUrl(this.base, path),
        body,
        signal: this.ctx.signal,
        timeoutMs: this.opts.requestTimeoutMs ?? 10_000,
        onSend: (headers) => this.emit(connectionId, { type: 'http-request', method: 'POST', path, headers, body }),
      });
    } catch (e) {
      if (isAbortError(e) || this.ctx.signal.aborted) return { kind: 'aborted' };
      const message = (e as Error).message ?? String(e);
      this.note(connectionId, 'marker', 'spectate-http-error', { path, message: this.scrub(message) });
      return { kind: 'error', message };
    }
    // Learn the token before anything can be logged or emitted about this exchange.
    const text = res.body.toString('utf8');
    let json: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    const token = res.status === 200 ? pickToken(json) : undefined;
    if (token) this.secrets.add(token);
    if (json) for (const k of ['token', 'spectateToken']) if (typeof json[k] === 'string' && json[k]) this.secrets.add(json[k] as string);
    this.emit(connectionId, { type: 'http-response', status: res.status, headers: res.headers, body: res.body });

    const code = typeof json?.code === 'string' ? json.code : undefined;
    if (res.status === 200) return token ? { kind: 'token', token } : { kind: 'error', message: 'HTTP 200 without a token' };
    if (res.status === 409 && code === 'SPECTATORS_FULL') {
      return {
        kind: 'full',
        connectionId,
        spectatorsCurrent: typeof json?.spectatorsCurrent === 'number' ? json.spectatorsCurrent : null,
        spectatorsMax: typeof json?.spectatorsMax === 'number' ? json.spectatorsMax : null,
      };
    }
    if (res.status === 409 && code === 'SESSION_ENDED') return { kind: 'ended', reason: 'session_ended' };
    if (res.status === 404) return { kind: 'ended', reason: 'not_found' };
    const retryAfter = res.headers.find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
    const retryAfterS = retryAfter !== undefined ? Number(retryAfter) : NaN;
    return {
      kind: 'error',
      message: `HTTP ${res.status}${code ? ` ${code}` : ''}`,
      retryAfterMs: Number.isFinite(retryAfterS) && retryAfterS >= 0 ? Math.min(retryAfterS * 1000, 60_000) : undefined,
    };
  }

  // ---- socket ----------------------------------------------------------------------------------------

  private runSocket(token: string): Promise<SocketOutcome> {
    const connectionId = taskConnectionId('spectate');
    this.summary.connections++;
    const q = new URLSearchParams({ sessionId: this.opts.platformSessionId });
    if (this.opts.authStyle === 'query') q.set('token', token);
    const path = `/ws/${encodeURIComponent(this.opts.slug)}/spectate?${q.toString()}`;
    const started = factClock();
    const signal = this.ctx.signal;

    return new Promise<SocketOutcome>((resolve) => {
      let requestHeaders: [string, string][] = [];
      let opened = false;
      let clientClosed = false;
      let gotFrames = false;
      let sawFinal = false;
      let refusedStatus: number | undefined;
      let finalTimer: NodeJS.Timeout | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      let silenceTimer: NodeJS.Timeout | undefined;
      let checking = false;
      /** Set when the silence check ended the task: the close that follows resolves with it. */
      let endedBySilence: { reason: SpectateEndReason; via: EndVia } | undefined;
      let binaryLogged = false;

      const ws = new WebSocket(`${this.wsBase}${path}`, {
        perMessageDeflate: false,
        followRedirects: false,
        handshakeTimeout: this.opts.requestTimeoutMs ?? 10_000,
        finishRequest: (req: ClientRequest) => {
          requestHeaders = requestHeaderPairs(req);
          req.end();
        },
      });

      const closeOurselves = (code: number): void => {
        if (ws.readyState === WebSocket.CONNECTING) return void ws.terminate();
        if (ws.readyState !== WebSocket.OPEN) return;
        clientClosed = true;
        ws.close(code);
        // No close handshake from the platform within a second: cut the socket.
        killTimer = setTimeout(() => ws.terminate(), 1000);
      };
      const onAbort = (): void => closeOurselves(1001);
      signal.addEventListener('abort', onAbort, { once: true });

      // A socket that stays open with no frame (e.g. `hello` from a session that ended or never starts, and no
      // close): ask the platform's session detail, and give up after the silence bound.
      const checkMs = this.opts.silenceCheckMs ?? 10_000;
      const checkSilence = async (): Promise<void> => {
        if (checking || endedBySilence || ws.readyState !== WebSocket.OPEN || this.silentForMs() < checkMs) return;
        checking = true;
        try {
          const state = await this.sessionState();
          if (ws.readyState !== WebSocket.OPEN || endedBySilence) return;
          if (state === 'ended') endedBySilence = { reason: 'session_ended', via: 'detail' };
          else if (state === 'not_found') endedBySilence = { reason: 'not_found', via: 'detail' };
          else if (this.silentForMs() >= this.maxSilenceMs) endedBySilence = { reason: 'inactive', via: 'silence' };
          if (!endedBySilence) return;
          this.log(
            'info',
            `${this.label}: no frame for ${this.silentForMs()} ms and the session is ${state === 'ended' || state === 'not_found' ? state : `still ${state}`}: closing (${endedBySilence.reason})`,
          );
          closeOurselves(1000);
        } finally {
          checking = false;
        }
      };

      // The platform refused the upgrade (an HTTP answer instead of 101): record that exchange.
      ws.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => {
        refusedStatus = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          const reqId = taskConnectionId('spectate');
          this.emitAt(reqId, started, { type: 'http-request', method: 'GET', path, headers: requestHeaders, body: Buffer.alloc(0) });
          this.emit(reqId, { type: 'http-response', status: refusedStatus ?? 0, headers: pairs(res.rawHeaders), body: Buffer.concat(chunks) });
          ws.terminate();
        };
        res.on('data', (c: Buffer) => {
          if (size < 64 * 1024) chunks.push(c);
          size += c.length;
        });
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      });

      ws.on('open', () => {
        opened = true;
        silenceTimer = setInterval(() => void checkSilence(), Math.max(50, Math.min(checkMs, this.maxSilenceMs)));
        this.emitAt(connectionId, started, { type: 'ws-open', path, headers: requestHeaders });
        this.log('info', `${this.label}: socket open (${connectionId}, auth ${this.opts.authStyle ?? 'message'})`);
        if (this.opts.authStyle !== 'query') {
          const auth = JSON.stringify({ t: 'auth', token });
          this.emit(connectionId, { type: 'ws-message', direction: 'client_to_platform', data: auth, binary: false });
          ws.send(auth);
        }
      });

      ws.on('message', (raw: WebSocket.RawData, isBinary: boolean) => {
        const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
        if (isBinary) {
          this.emit(connectionId, { type: 'ws-message', direction: 'platform_to_client', data: Buffer.from(buf), binary: true });
          if (!binaryLogged) {
            binaryLogged = true;
            this.log('warn', `${this.label}: binary message from the platform (recorded, not interpreted)`);
          }
          return;
        }
        const text = buf.toString('utf8');
        let msg: unknown;
        try {
          msg = JSON.parse(text);
        } catch {
          msg = undefined;
          this.summary.malformedMessages++;
        }
        const frame = moltstation.frames.frameOf(msg);
        if (frame && this.pendingGap) this.emitGap(connectionId, typeof frame.tick === 'number' ? frame.tick : null);
        // The parse goes with the fact: the recorder classifies the message from it instead of parsing the frame again.
        this.emit(connectionId, { type: 'ws-message', direction: 'platform_to_client', data: text, binary: false, ...(msg !== undefined ? { parsed: msg } : {}) });
        if (!frame) return;
        gotFrames = true;
        this.lastFrameAtMs = Date.now();
        this.summary.frames++;
        if (typeof frame.tick === 'number') this.summary.lastTick = frame.tick;
        if (frame.phase === 'ended' && !sawFinal) {
          sawFinal = true;
          finalTimer = setTimeout(() => closeOurselves(1000), this.opts.finalCloseTimeoutMs ?? 5000);
        }
      });

      ws.on('error', (e: Error) => {
        if (!signal.aborted) this.log('warn', `${this.label}: socket error (${this.scrub(e.message)})`);
      });

      ws.on('close', (code: number, reasonBuf: Buffer) => {
        signal.removeEventListener('abort', onAbort);
        clearTimeout(finalTimer);
        clearTimeout(killTimer);
        clearInterval(silenceTimer);
        const reason = reasonBuf.toString('utf8');
        if (opened) this.emit(connectionId, { type: 'ws-close', initiator: clientClosed ? 'client' : 'platform', code, reason });
        if (signal.aborted) return resolve({ kind: 'aborted' });
        if (reason === 'GAME_OVER') return resolve({ kind: 'ended', reason: 'game_over', via: 'wire' });
        if (reason === 'EXIT') return resolve({ kind: 'ended', reason: 'exit', via: 'wire' });
        if (sawFinal) return resolve({ kind: 'ended', reason: 'game_over', via: 'wire' });
        if (endedBySilence) return resolve({ kind: 'ended', ...endedBySilence });
        const why = refusedStatus !== undefined ? `upgrade_refused_${refusedStatus}` : !opened ? 'connect_error' : code === 1006 ? 'abnormal_close' : reason || `close_${code}`;
        resolve({ kind: 'retry', reason: this.scrub(why), closeCode: opened ? code : null, gotFrames, full: code === 4429 || reason === 'SPECTATORS_FULL' });
      });
    });
  }

  // ---- facts and logs --------------------------------------------------------------------------------

  private emitGap(connectionId: string, nextTick: number | null): void {
    const g = this.pendingGap;
    if (!g) return;
    this.pendingGap = undefined;
    this.summary.gaps++;
    this.note(connectionId, 'gap', 'spectate-gap', { reason: g.reason, lastTick: g.lastTick, nextTick, closeCode: g.closeCode, causes: g.causes });
    this.log('info', `${this.label}: gap (${g.reason}) from tick ${g.lastTick ?? '-'} to ${nextTick ?? '-'}`);
  }

  private note(connectionId: string, kind: NoteFact['kind'], msgType: string, detail: Record<string, unknown>): void {
    this.emit(connectionId, { type: 'note', kind, msgType, detail });
  }

  private emit(connectionId: string, fact: FactBody): void {
    this.emitAt(connectionId, factClock(), fact);
  }

  private emitAt(connectionId: string, at: { atNs: bigint; wallUs: number }, fact: FactBody): void {
    try {
      // The fact's own fields last: an object spread first and fields added after it cost microseconds per frame in
      // this V8 (each such object took a slow path), the other way round a literal's cost (issue 18).
      this.ctx.sink.capture({ platform: 'moltstation', connectionId, atNs: at.atNs, wallUs: at.wallUs, origin: 'spectator', ...fact } as CapturedFact);
    } catch (e) {
      if (!this.sinkFailed) {
        this.sinkFailed = true;
        this.log('error', `${this.label}: capture sink threw (${(e as Error)?.name ?? 'error'}); further sink errors are not logged`);
      }
    }
  }

  private scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) if (s) out = out.split(s).join('[token]');
    return out.replace(/([?&]token=)[^&\s]*/gi, '$1[token]');
  }

  private log(level: 'info' | 'warn' | 'error', line: string): void {
    try {
      this.ctx.log[level](this.scrub(line));
    } catch {
      // a broken logger must not break capture
    }
  }
}

type FactBody = CapturedFact extends infer F ? (F extends unknown ? Omit<F, 'platform' | 'connectionId' | 'atNs' | 'wallUs' | 'origin'> : never) : never;

function pickToken(json: Record<string, unknown> | undefined): string | undefined {
  const t = json?.spectateToken ?? json?.token;
  return typeof t === 'string' && t !== '' ? t : undefined;
}

/** The upgrade request's headers exactly as they will be sent (names in their case and order). */
function requestHeaderPairs(req: ClientRequest): [string, string][] {
  const out: [string, string][] = [];
  for (const name of req.getRawHeaderNames()) {
    const v = req.getHeader(name);
    if (Array.isArray(v)) for (const x of v) out.push([name, String(x)]);
    else if (v !== undefined) out.push([name, String(v)]);
  }
  return out;
}
