import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { FaultRegistry } from './core/faults';
import { readJson, sendJson, splitPath } from './core/http';
import { createRng } from './core/rng';
import { PlatformFactory, PlatformSimulator, SimulatedPlatform, SIMULATED_PLATFORMS } from './core/types';
import { createCloudplaySimulator } from './cloudplay';
import { createMoltStationSimulator } from './moltstation';
import { createRgsSimulator } from './rgs';
import { addSimulatorFault, createRewardsService, RewardsOptions, SimulatorFaultSpec, validateSimulatorFaultSpec } from './rewards';
import { createSpaceMoltSimulator } from './spacemolt';

export interface SimulatorOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Everything random derives from it: same seed + same inputs → same frames. */
  seed?: string;
  /** Platform faults, and `platform: "rewards"` faults for the rewards endpoint. */
  faults?: SimulatorFaultSpec[];
  log?: (line: string) => void;
  now?: () => number;
  /** Per-platform options (time constants, game parameters…), documented on each platform's page. */
  platformOptions?: Partial<Record<SimulatedPlatform, Record<string, unknown>>>;
  /** Options of the rewards endpoint (`apiKey`, `maxBodyBytes`), documented in docs/simulator/rewards.md. */
  rewards?: Partial<RewardsOptions>;
}

export interface RunningSimulator {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Base URL of one platform, e.g. http://127.0.0.1:4100/moltstation */
  baseUrl(platform: SimulatedPlatform): string;
  /** Base URL of the rewards endpoint (not a recorded platform), e.g. http://127.0.0.1:4100/rewards */
  rewardsUrl: string;
  faults: FaultRegistry;
  close(): Promise<void>;
}

const FACTORIES: Record<SimulatedPlatform, PlatformFactory> = {
  moltstation: createMoltStationSimulator,
  spacemolt: createSpaceMoltSimulator,
  cloudplay: createCloudplaySimulator,
  rgs: createRgsSimulator,
};

/**
 * The four platforms in one process: each under its own base path with the platform's own paths
 * beneath (`/moltstation/api/games/…`, `/moltstation/ws/{slug}/play`, `/spacemolt/ws`, `/spacemolt/api/v2/…`,
 * `/cloudplay/api/game/…`, `/rgs/game/…`), plus `/admin/faults` and `/health`, and the rewards pipeline
 * Rewind hands run outcomes to (`/rewards/handoffs`, not a recorded platform).
 */
export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const seed = options.seed ?? 'rewind';
  const log = options.log ?? (() => undefined);
  const faults = new FaultRegistry();
  for (const spec of options.faults ?? []) addSimulatorFault(faults, spec);
  let url = '';
  // First: it validates its options, and throws before any platform has started a timer.
  const rewards = createRewardsService({ rng: createRng(`${seed}/rewards`), seed: `${seed}/rewards`, faults, now: options.now ?? Date.now, log: (line) => log(`[rewards] ${line}`) }, options.rewards);

  const platforms = new Map<SimulatedPlatform, PlatformSimulator>();
  for (const name of SIMULATED_PLATFORMS) {
    platforms.set(
      name,
      FACTORIES[name]({
        rng: createRng(`${seed}/${name}`),
        seed: `${seed}/${name}`,
        faults,
        baseUrl: () => `${url}/${name}`,
        now: options.now ?? Date.now,
        log: (line) => log(`[${name}] ${line}`),
        options: options.platformOptions?.[name] ?? {},
      }),
    );
  }

  const route = (rawUrl: string | undefined): { platform?: PlatformSimulator; path: string; first: string } => {
    const raw = rawUrl ?? '/';
    const m = /^\/([^/?]+)(.*)$/.exec(raw);
    const first = m ? (m[1] as string) : '';
    const rest = m ? (m[2] as string) : '';
    const platform = platforms.get(first as SimulatedPlatform);
    return { platform, first, path: rest.startsWith('/') ? rest : `/${rest}` };
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const { platform, path, first } = route(req.url);
      try {
        if (platform) {
          if (!(await platform.handleHttp(req, res, path))) sendJson(res, 404, { error: 'not_found', message: `no ${req.method} ${path} on ${platform.platform}` });
          return;
        }
        if (first === 'rewards') return void (await rewards.handleHttp(req, res, path));
        if (first === 'admin') return void (await admin(req, res, path, faults));
        if (first === 'health') return sendJson(res, 200, { status: 'ok', platforms: [...platforms.keys()] });
        sendJson(res, 404, { error: 'not_found', message: `unknown platform "${first}": use /moltstation, /spacemolt, /cloudplay or /rgs (or /rewards)` });
      } catch (e) {
        log(`error on ${req.method} ${req.url}: ${(e as Error).stack ?? e}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal_error', message: 'simulator error' });
        else res.destroy();
      }
    })();
  });
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const { platform, path } = route(req.url);
    try {
      if (platform && platform.handleUpgrade(req, socket, head, path)) return;
    } catch (e) {
      log(`upgrade error on ${req.url}: ${(e as Error).stack ?? e}`);
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  // Dropped and half-open client connections must never take the process down.
  server.on('clientError', (_e, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  log(`simulator listening on ${url} (seed ${seed})`);
  return {
    url,
    port,
    faults,
    baseUrl: (platform) => `${url}/${platform}`,
    rewardsUrl: `${url}/rewards`,
    async close() {
      await Promise.all([...[...platforms.values()].map((p) => p.close()), rewards.close()]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** GET /admin/faults, POST /admin/faults {platform (or "rewards"), fault, target?, params?, times?}, DELETE /admin/faults[/id]. */
async function admin(req: http.IncomingMessage, res: http.ServerResponse, path: string, faults: FaultRegistry): Promise<void> {
  const { segments } = splitPath(path);
  if (segments[0] !== 'faults') return sendJson(res, 404, { error: 'not_found' });
  if (req.method === 'GET') return sendJson(res, 200, { faults: faults.list() });
  if (req.method === 'DELETE') {
    if (segments[1] === undefined) {
      faults.clear();
      return sendJson(res, 200, { cleared: true });
    }
    return faults.remove(Number(segments[1])) ? sendJson(res, 200, { removed: Number(segments[1]) }) : sendJson(res, 404, { error: 'no such fault' });
  }
  if (req.method === 'POST') {
    const body = await readJson(req, res);
    if (body === undefined) return;
    try {
      return sendJson(res, 201, addSimulatorFault(faults, validateSimulatorFaultSpec(body)));
    } catch (e) {
      return sendJson(res, 400, { error: 'invalid_fault', message: (e as Error).message });
    }
  }
  sendJson(res, 405, { error: 'method_not_allowed' });
}
