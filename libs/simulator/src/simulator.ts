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
  /**
   * Each platform also at the root of a port of its own (default true): `port` + 1 … + 4 in the order
   * moltstation, spacemolt, cloudplay, rgs, or free ports when `port` is 0. false: only the prefixed layout (for
   * tests that start many simulators on fixed ports).
   */
  rootPorts?: boolean;
}

export interface RunningSimulator {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Base URL of one platform, e.g. http://127.0.0.1:4100/moltstation */
  baseUrl(platform: SimulatedPlatform): string;
  /**
   * The origin that serves one platform's paths at its root, e.g. http://127.0.0.1:4101 for MoltStation
   * (`/api/games/…`, `/ws/{slug}/play`). Throws when the simulator was started with `rootPorts: false`.
   */
  rootUrl(platform: SimulatedPlatform): string;
  /** Base URL of the rewards endpoint (not a recorded platform), e.g. http://127.0.0.1:4100/rewards */
  rewardsUrl: string;
  faults: FaultRegistry;
  close(): Promise<void>;
}

/** Where a request goes: a platform with its own path, or the host's `first` segment (rewards, admin, health). */
interface Route {
  platform?: PlatformSimulator;
  path: string;
  first: string;
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
 * Rewind hands run outcomes to (`/rewards/handoffs`, not a recorded platform). Unless `rootPorts` is false, each
 * platform is also served at the root of a port of its own (`port` + 1 … + 4), for clients that build URLs with
 * absolute paths against a bare origin. An unknown WebSocket upgrade path gets an HTTP 404 at once on every listener.
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

  const route = (rawUrl: string | undefined): Route => {
    const raw = rawUrl ?? '/';
    const m = /^\/([^/?]+)(.*)$/.exec(raw);
    const first = m ? (m[1] as string) : '';
    const rest = m ? (m[2] as string) : '';
    const platform = platforms.get(first as SimulatedPlatform);
    return { platform, first, path: rest.startsWith('/') ? rest : `/${rest}` };
  };

  const answerHttp = async (req: http.IncomingMessage, res: http.ServerResponse, { platform, path, first }: Route): Promise<void> => {
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
  };
  /** One listener: the prefixed layout (`routeOf` = route) or one platform at the root. */
  const createListener = (routeOf: (rawUrl: string | undefined) => Route): http.Server => {
    const server = http.createServer((req, res) => void answerHttp(req, res, routeOf(req.url)));
    server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      const { platform, path } = routeOf(req.url);
      try {
        if (platform && platform.handleUpgrade(req, socket, head, path)) return;
      } catch (e) {
        log(`upgrade error on ${req.url}: ${(e as Error).stack ?? e}`);
      }
      // Unknown path (or platform without WebSockets): refused at once, never left hanging.
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    // Dropped and half-open client connections must never take the process down.
    server.on('clientError', (_e, socket) => socket.destroy());
    return server;
  };
  const host = options.host ?? '127.0.0.1';
  const listen = (server: http.Server, port: number, what: string): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      const failed = (e: Error & { code?: string }): void => reject(new Error(`simulator: cannot listen on ${host}:${port} for ${what} (${e.code ?? e.message})`));
      server.once('error', failed);
      server.listen(port, host, () => {
        server.off('error', failed);
        resolve((server.address() as AddressInfo).port);
      });
    });

  const server = createListener(route);
  const servers: http.Server[] = [server];
  const rootUrls = new Map<SimulatedPlatform, string>();
  let port: number;
  try {
    port = await listen(server, options.port, 'the prefixed layout');
    url = `http://${host}:${port}`;
    if (options.rootPorts !== false) {
      for (const [i, name] of SIMULATED_PLATFORMS.entries()) {
        const platform = platforms.get(name)!;
        const own = createListener((rawUrl) => ({ platform, first: name, path: rawUrl?.startsWith('/') ? rawUrl : `/${rawUrl ?? ''}` }));
        servers.push(own);
        rootUrls.set(name, `http://${host}:${await listen(own, options.port === 0 ? 0 : options.port + 1 + i, `${name} at the root`)}`);
      }
    }
  } catch (e) {
    await Promise.all([...[...platforms.values()].map((p) => p.close()), rewards.close()]);
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
    throw e;
  }
  log(`simulator listening on ${url} (seed ${seed})${[...rootUrls].map(([p, u]) => `; ${p} at the root of ${u}`).join('')}`);
  return {
    url,
    port,
    faults,
    baseUrl: (platform) => `${url}/${platform}`,
    rootUrl: (platform) => {
      const root = rootUrls.get(platform);
      if (!root) throw new Error(`simulator: ${platform} has no port of its own (started with rootPorts: false)`);
      return root;
    },
    rewardsUrl: `${url}/rewards`,
    async close() {
      await Promise.all([...[...platforms.values()].map((p) => p.close()), rewards.close()]);
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
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
