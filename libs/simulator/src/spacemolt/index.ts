import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PlatformContext, PlatformFactory, PlatformSimulator } from '../core/types';
import { Game } from './game';
import { HttpApi, HttpSession } from './http-api';
import { WsConnection, WsGateway } from './ws';

export interface SpaceMoltOptions {
  /** Game tick (docs: 10 s in production, 2 s in benchmark mode). Host: `platformOptions.spacemolt.tickMs`. */
  tickMs?: number;
  /** Largest WebSocket frame / HTTP body accepted (bytes). */
  maxPayload?: number;
  pingMs?: number;
  idleMs?: number;
  /** Folder holding openapi-v1/v2.v0.327.2.json; default libs/simulator/assets/spacemolt (shipped with the repository). */
  specDir?: string;
}

export const DEFAULT_TICK_MS = 10_000;
export const DEFAULT_MAX_PAYLOAD = 64 * 1024;

function loadSpec(file: string, log: (l: string) => void): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    log(`OpenAPI spec not found at ${file}: /api openapi routes will answer 404`);
    return undefined;
  }
}

export function createSpaceMoltSimulatorWith(options: SpaceMoltOptions = {}): PlatformFactory {
  return (ctx: PlatformContext): PlatformSimulator => {
    const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    if (!Number.isFinite(tickMs) || tickMs <= 0) throw new Error(`spacemolt tickMs must be a positive number of ms (got ${tickMs})`);
    const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    const specDir = options.specDir ?? path.resolve(__dirname, '../../assets/spacemolt');
    const v1Path = path.join(specDir, 'openapi-v1.v0.327.2.json');
    const v2Path = path.join(specDir, 'openapi-v2.v0.327.2.json');
    const game = new Game(ctx, { tickMs });
    // The two transports close each other's replaced connections (one connection per account).
    let http: HttpApi | undefined;
    const replace = (previous: unknown): void => {
      if (previous instanceof WsConnection) previous.closeWith(4001, 'session replaced: logged in from another connection');
      else if (previous instanceof HttpSession) http?.invalidate(previous);
    };
    const ws = new WsGateway(game, { maxPayload, pingMs: options.pingMs ?? 54_000, idleMs: options.idleMs ?? 60_000 }, replace);
    http = new HttpApi(game, { maxBody: maxPayload, specs: { v1: loadSpec(v1Path, ctx.log), v2: loadSpec(v2Path, ctx.log), v1Path, v2Path } }, replace);
    game.onTick = () => ws.onTick();
    game.start();
    return {
      platform: 'spacemolt',
      handleHttp: (req, res, p) => http!.handle(req, res, p),
      handleUpgrade: (req, socket, head, p) => {
        if (!/^\/ws\/?(\?.*)?$/.test(p)) return false;
        ws!.handleUpgrade(req, socket, head);
        return true;
      },
      close: async () => {
        game.stop();
        await ws!.close();
      },
    };
  };
}

/** SpaceMolt (gameserver v0.327.2): WebSocket `/ws`, HTTP `/api/v1/<command>` and `/api/v2/{tool}/{action}`. */
/** With the options of `startSimulator({ platformOptions: { spacemolt: { tickMs, … } } })`. */
export const createSpaceMoltSimulator: PlatformFactory = (ctx) => createSpaceMoltSimulatorWith((ctx.options ?? {}) as SpaceMoltOptions)(ctx);
