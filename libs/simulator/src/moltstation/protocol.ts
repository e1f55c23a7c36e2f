/** MoltStation wire protocol: slugs, close codes/reasons, client-message parsing (reference §4). */
import { createHash } from 'node:crypto';
export const SLUGS = ['shellrunners', 'flappybots'] as const;
export type Slug = (typeof SLUGS)[number];
export const isSlug = (s: unknown): s is Slug => (SLUGS as readonly unknown[]).includes(s);

export type Role = 'play' | 'spectate';
export type Source = 'agent_api' | 'browser_ws';

/**
 * Close reasons are what the real clients read; codes are never read by them (reference §4.2), so the
 * codes are our choice (app range 4000–4999 for token problems, standard codes otherwise).
 */
export const CLOSE = {
  GAME_OVER: { code: 1000, reason: 'GAME_OVER' },
  EXIT: { code: 1000, reason: 'EXIT' },
  INVALID_TOKEN: { code: 4001, reason: 'INVALID_TOKEN' },
  SESSION_REPLACED: { code: 4002, reason: 'SESSION_REPLACED' },
  TOKEN_NOT_FOUND: { code: 4404, reason: 'TOKEN_NOT_FOUND' },
  TOKEN_REPLAYED: { code: 4409, reason: 'TOKEN_REPLAYED' },
  TOKEN_EXPIRED: { code: 4410, reason: 'TOKEN_EXPIRED' },
  SPECTATORS_FULL: { code: 4429, reason: 'SPECTATORS_FULL' },
  MESSAGE_TOO_LARGE: { code: 1009, reason: 'MESSAGE_TOO_LARGE' },
  SLOW_CONSUMER: { code: 1013, reason: 'SLOW_CONSUMER' },
  SERVER_SHUTDOWN: { code: 1001, reason: 'SERVER_SHUTDOWN' },
} as const;
export type CloseSpec = { code: number; reason: string };

export type ClientMessage = { t: 'auth'; token: string } | { t: 'input'; dir: 'left' | 'right' | 'none' } | { t: 'action'; action: unknown } | { t: 'cmd'; cmd: 'pause' | 'resume' | 'exit' };

/** `{t:"error"}` is our own addition: the public clients ignore every `t` but hello/frame. */
export interface ProtocolError {
  code: 'INVALID_JSON' | 'INVALID_MESSAGE' | 'UNKNOWN_MESSAGE' | 'UNSUPPORTED_MESSAGE' | 'BINARY_NOT_SUPPORTED' | 'READ_ONLY';
  message: string;
}

export function errorMessage(e: ProtocolError): string {
  return JSON.stringify({ t: 'error', code: e.code, message: e.message });
}

const DIRS = ['left', 'right', 'none'];
const CMDS = ['pause', 'resume', 'exit'];

/** Parses one client text message; never throws. */
export function parseClientMessage(text: string): ClientMessage | ProtocolError {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { code: 'INVALID_JSON', message: 'message is not valid JSON' };
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { code: 'INVALID_MESSAGE', message: 'message must be a JSON object with a "t" field' };
  const o = m as Record<string, unknown>;
  switch (o.t) {
    case 'auth':
      if (typeof o.token !== 'string' || o.token.length === 0) return { code: 'INVALID_MESSAGE', message: 'auth needs a non-empty string "token"' };
      return { t: 'auth', token: o.token };
    case 'input':
      if (!DIRS.includes(o.dir as string)) return { code: 'INVALID_MESSAGE', message: 'dir supports only left, right, none' };
      return { t: 'input', dir: o.dir as 'left' | 'right' | 'none' };
    case 'action':
      return { t: 'action', action: o.action };
    case 'cmd':
      if (!CMDS.includes(o.cmd as string)) return { code: 'INVALID_MESSAGE', message: 'cmd supports only pause, resume, exit' };
      return { t: 'cmd', cmd: o.cmd as 'pause' | 'resume' | 'exit' };
    default:
      return { code: 'UNKNOWN_MESSAGE', message: `unknown message type ${JSON.stringify(typeof o.t === 'string' ? o.t : null)}` };
  }
}

export const isProtocolError = (m: ClientMessage | ProtocolError): m is ProtocolError => 'code' in m;

/** Never log a credential in clear: keep a short prefix only. */
/** A token for log lines: a short sha256 fingerprint, never any of its characters. */
export function redact(token: string): string {
  return `tok#${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
}
