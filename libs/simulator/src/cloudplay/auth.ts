import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CloudplayError } from './errors';

/**
 * Authentication (the document: "All endpoints require authentication"). The simulator provisions users
 * implicitly: any `Authorization: Bearer <token>` whose token has the RFC 6750 b64token shape and is
 * 8–512 characters long is a valid API key; the same token is always the same user. The user id is
 * `usr_` + 16 hex digits of sha256(seed + token), so it is stable for a seed and never reveals the token.
 */
export interface CloudplayUser {
  id: string;
  token: string;
}

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export function authenticate(req: IncomingMessage, seed: string): CloudplayUser {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') {
    throw new CloudplayError('unauthorized', 'authentication required: send Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="cloudplay"' });
  }
  const m = /^Bearer +(\S+) *$/i.exec(header);
  const token = m?.[1];
  if (!token || token.length < 8 || token.length > 512 || !B64TOKEN.test(token)) {
    throw new CloudplayError('unauthorized', 'invalid credentials', { 'www-authenticate': 'Bearer realm="cloudplay", error="invalid_token"' });
  }
  return { id: userIdOf(seed, token), token };
}

export function userIdOf(seed: string, token: string): string {
  return `usr_${createHash('sha256').update(`${seed}\u0000${token}`).digest('hex').slice(0, 16)}`;
}
