import type { Rng } from '../core/rng';
import type { CatalogGame } from './catalog';

export interface GameServer {
  index: number;
  /** e.g. https://gs01.play.ren.bd */
  url: string;
  /** slug → instant the game is on this server's disk (past = cached, future = download in progress). */
  cache: Map<string, number>;
}

export interface Placement {
  server: GameServer;
  /** Undefined: the game is not on the server (a download is needed); past: cached; future: downloading. */
  availableAt?: number;
}

/**
 * The scheduler of the document's launch process: cache-aware (a server that has the game), then
 * load-aware (fewest sessions), ties to the lowest server number. Which games each server starts with is
 * drawn from the seed.
 */
export class ServerPool {
  readonly servers: GameServer[];

  constructor(count: number, urlTemplate: string, games: readonly CatalogGame[], rng: Rng) {
    this.servers = Array.from({ length: count }, (_, i) => {
      const nn = String(i + 1).padStart(2, '0');
      const cache = new Map<string, number>();
      for (const g of games) if (rng.next() < 0.5) cache.set(g.slug, Number.NEGATIVE_INFINITY);
      return { index: i, url: urlTemplate.replace('{nn}', nn), cache };
    });
  }

  /** Undefined when every server is full (→ 503 no_servers). */
  select(gameSlug: string, now: number, load: (server: GameServer) => number, capacity: number): Placement | undefined {
    const open = this.servers.filter((s) => load(s) < capacity);
    const waitFor = (s: GameServer): number => Math.max(0, (s.cache.get(gameSlug) as number) - now);
    const byLoad = (a: GameServer, b: GameServer): number => load(a) - load(b) || a.index - b.index;
    const holding = open.filter((s) => s.cache.has(gameSlug)).sort((a, b) => waitFor(a) - waitFor(b) || byLoad(a, b));
    const server = holding[0] ?? [...open].sort(byLoad)[0];
    if (!server) return undefined;
    return { server, availableAt: server.cache.get(gameSlug) };
  }

  /** Records a download: the game is on `server` from `at` on. */
  markDownloading(server: GameServer, gameSlug: string, at: number): void {
    server.cache.set(gameSlug, at);
  }
}
