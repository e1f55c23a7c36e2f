import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { transformSync } from '@swc/core';
import { findRepoRoot } from '@rewind/config';

/** The web viewer's files: `apps/viewer/public` (pages, styles) and `apps/viewer/src` (TypeScript modules). */
export const VIEWER_DIR = path.join(findRepoRoot(), 'apps', 'viewer');

/**
 * Only our own origin: no inline script or style, nothing from the network but this API (pages, REST, the
 * replay WebSocket).
 */
export const VIEWER_CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
const PAGE = /^\/([a-z0-9-]+)\.(html|css)$/;
const MODULE = /^\/viewer\/((?:[a-z0-9-]+\/)*[a-z0-9-]+)\.js$/;

type Next = (err?: unknown) => void;

/**
 * Serves the viewer the way the rest of Rewind runs, from source: `/` and `/<page>.html|css` from
 * `public/`, `/viewer/<module>.js` transpiled from `src/<module>.ts` by SWC into an ES module (cached until
 * the file changes). Names are limited to `[a-z0-9-]` path segments (no dots), so nothing outside the two
 * folders can be reached and spec files (`x.spec.ts`) are never served. Everything else goes on to the API.
 */
export function viewerAssets(dir = VIEWER_DIR): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const cache = new Map<string, { mtimeMs: number; code: string }>();
  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean) => {
    res.statusCode = status;
    res.setHeader('content-type', type);
    res.setHeader('content-security-policy', VIEWER_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-cache');
    res.end(head ? undefined : body);
  };
  const module = (name: string): string | null => {
    const file = path.join(dir, 'src', `${name}.ts`);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      return null;
    }
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === stat.mtimeMs) return hit.code;
    const { code } = transformSync(fs.readFileSync(file, 'utf8'), {
      filename: file,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    });
    cache.set(file, { mtimeMs: stat.mtimeMs, code });
    return code;
  };
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const pathname = new URL(req.url ?? '/', 'http://viewer').pathname;
    const head = req.method === 'HEAD';
    const page = pathname === '/' ? (['index', 'html'] as const) : PAGE.exec(pathname)?.slice(1);
    if (page) {
      const file = path.join(dir, 'public', `${page[0]}.${page[1]}`);
      if (!fs.existsSync(file)) return next();
      return send(res, 200, TYPES[`.${page[1]}`] as string, fs.readFileSync(file), head);
    }
    const m = MODULE.exec(pathname);
    if (m) {
      try {
        const code = module(m[1] as string);
        if (code === null) return send(res, 404, 'application/json', JSON.stringify({ error: 'not_found', message: `no viewer module ${pathname}` }), head);
        return send(res, 200, TYPES['.js'] as string, code, head);
      } catch (e) {
        return send(res, 500, 'application/json', JSON.stringify({ error: 'viewer_build', message: (e as Error).message.slice(0, 300) }), head);
      }
    }
    next();
  };
}
