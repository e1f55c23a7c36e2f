import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DynamicModule, InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { BullBoardModule, BullBoardModuleOptions } from '@bull-board/nestjs';
import { ExpressAdapter } from '@bull-board/express';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { bullConnection, PIPELINE_QUEUES } from '@rewind/pipeline';
import { ApiKeys, apiKeyOfHeaders, KeyCheck } from '../auth/api-keys';

/** Where the board is served. */
export const QUEUE_BOARD_ROUTE = '/queues';
/** The board's own cookie (set from `?key=`): HttpOnly, for the board's paths only. */
export const QUEUE_BOARD_COOKIE = 'rewind_queues_key';

type Req = IncomingMessage & { originalUrl?: string; secure?: boolean };

function cookieValue(req: Req, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [n, ...v] = part.trim().split('=');
    if (n === name && v.length) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function deny(res: ServerResponse, result: Exclude<KeyCheck, { ok: true }>): void {
  res.statusCode = result.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  if (result.status === 401) res.setHeader('www-authenticate', 'Bearer');
  res.end(JSON.stringify({ error: result.status === 401 ? 'unauthorized' : 'forbidden', message: result.reason }));
}

/**
 * Bull Board is Express middleware, which the API's ScopeGuard does not cover: this middleware, run before the
 * board's router, lets only keys with the `admin` scope in (the board retries, promotes, cleans and removes
 * jobs). The key comes from `Authorization: Bearer`, `X-API-Key`, the board's cookie, then the viewer's
 * `rewind_api_key` cookie. A browser opens `/queues?key=<admin key>` once: the key is checked, put in an
 * HttpOnly, SameSite=Strict cookie for `/queues` (12 h; Secure over HTTPS) and the browser is redirected
 * to the URL without it. 401 without a valid key, 403 for a key without `admin`.
 */
export function queueBoardAuth(keys: ApiKeys) {
  return (req: Req, res: ServerResponse, next: () => void): void => {
    const url = new URL(req.originalUrl ?? req.url ?? '/', 'http://rewind.invalid');
    const fromQuery = url.searchParams.get('key');
    if (fromQuery !== null) {
      const check = keys.check(fromQuery || undefined, 'admin');
      if (!check.ok) return deny(res, check);
      url.searchParams.delete('key');
      res.statusCode = 303;
      res.setHeader('set-cookie', `${QUEUE_BOARD_COOKIE}=${encodeURIComponent(fromQuery)}; Path=${QUEUE_BOARD_ROUTE}; HttpOnly; SameSite=Strict; Max-Age=43200${req.secure ? '; Secure' : ''}`);
      res.setHeader('location', `${url.pathname}${url.search}`);
      res.end();
      return;
    }
    const key =
      apiKeyOfHeaders({ authorization: req.headers.authorization, 'x-api-key': req.headers['x-api-key'] }) ?? cookieValue(req, QUEUE_BOARD_COOKIE) ?? apiKeyOfHeaders({ cookie: req.headers.cookie });
    const check = keys.check(key, 'admin');
    if (!check.ok) return deny(res, check);
    next();
  };
}

/**
 * @bull-board/express 9.10.1 brings its own copy of @bull-board/api (9.10.1; the workspace has 9.10.2), whose
 * adapter types differ only in private members: the same class, typed as the board module expects.
 */
const boardServerAdapter = ExpressAdapter as unknown as BullBoardModuleOptions['adapter'];

/** Where the API's pipeline queues are and who may open their board. */
export interface PipelineQueueSettings {
  redisUrl: string;
  queuePrefix?: string;
  apiKeys: readonly string[];
}

/**
 * The pipeline's queues in the API — producer-only (BullModule registers them; no processor here) — and Bull
 * Board on them at `/queues`, for admin keys only. The API reads depths and operates dead letters through the
 * same queue instances (PipelineQueues). The settings come from a factory (the API's options).
 */
export function pipelineQueueModules(o: {
  imports: NonNullable<ModuleMetadata['imports']>;
  inject: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => PipelineQueueSettings;
}): DynamicModule[] {
  const settings = o.useFactory as (...args: unknown[]) => PipelineQueueSettings;
  return [
    BullModule.forRootAsync({
      imports: o.imports,
      inject: o.inject,
      useFactory: (...args: unknown[]) => {
        const s = settings(...args);
        return { connection: bullConnection(s.redisUrl), prefix: s.queuePrefix ?? 'rewind' };
      },
    }),
    BullModule.registerQueue(...PIPELINE_QUEUES.map((name) => ({ name }))),
    BullBoardModule.forRootAsync({
      imports: o.imports,
      inject: o.inject,
      useFactory: (...args: unknown[]) => ({
        route: QUEUE_BOARD_ROUTE,
        adapter: boardServerAdapter,
        middleware: queueBoardAuth(new ApiKeys(settings(...args).apiKeys)),
        boardOptions: { uiConfig: { boardTitle: 'Rewind queues' } },
      }),
    }),
    BullBoardModule.forFeature(...PIPELINE_QUEUES.map((name) => ({ name, adapter: BullMQAdapter }))),
  ];
}
