/** Test helpers for the spectator tests (not exported from the library). */
import * as net from 'node:net';
import { moltstation, TrafficLog } from '@rewind/agents';
import type { CapturedFact, CaptureSink, NoteFact, WsMessageFact, CaptureTaskContext, ResumedStream } from '@rewind/capture-facts';
import { waitFor as waitForCondition } from '@rewind/testing';

export class CollectingSink implements CaptureSink {
  readonly facts: CapturedFact[] = [];
  capture(fact: CapturedFact): void {
    this.facts.push(fact);
  }
  /** Text frames received, in order (exact strings). */
  frames(): string[] {
    return this.facts
      .filter((f): f is WsMessageFact => f.type === 'ws-message' && f.direction === 'platform_to_client' && typeof f.data === 'string' && f.data.startsWith('{"t":"frame"'))
      .map((f) => f.data as string);
  }
  frameTicks(): number[] {
    return this.frames().map((t) => JSON.parse(t).frame.tick as number);
  }
  notes(msgType?: string): NoteFact[] {
    return this.facts.filter((f): f is NoteFact => f.type === 'note' && (msgType === undefined || f.msgType === msgType));
  }
  of<T extends CapturedFact['type']>(type: T): Extract<CapturedFact, { type: T }>[] {
    return this.facts.filter((f) => f.type === type) as Extract<CapturedFact, { type: T }>[];
  }
}

export interface TestContext extends CaptureTaskContext {
  controller: AbortController;
  lines: string[];
}

export function testContext(sink: CaptureSink, resumed?: ResumedStream): TestContext {
  const controller = new AbortController();
  const lines: string[] = [];
  return {
    sink,
    signal: controller.signal,
    controller,
    lines,
    resumed,
    log: {
      info: (m) => lines.push(`info ${m}`),
      warn: (m) => lines.push(`warn ${m}`),
      error: (m) => lines.push(`error ${m}`),
    },
  };
}

/** Waits until `cond()` is truthy: the one `waitFor` of `@rewind/testing` (its failure names what, how long and the last value), in these specs' argument order. */
export function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs?: number): Promise<NonNullable<T>> {
  return waitForCondition(what, cond, { timeoutMs, intervalMs: 10, until: Boolean }) as Promise<NonNullable<T>>;
}

/**
 * A TCP relay in front of the simulator, so a test can cut the spectator's connection the way a network
 * failure would (no close frame: the client sees 1006).
 */
export class TcpRelay {
  private server: net.Server | undefined;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket; firstLine: string }>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      const pair = { client, upstream, firstLine: '' };
      this.pairs.add(pair);
      client.once('data', (chunk: Buffer) => {
        pair.firstLine = chunk.toString('latin1').split('\r\n')[0] ?? '';
      });
      client.pipe(upstream);
      upstream.pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', end);
      upstream.on('error', end);
      client.on('close', end);
      upstream.on('close', end);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server!.address() as net.AddressInfo).port;
    return this;
  }

  /** Destroys the connections whose first request line matches (e.g. the spectate socket's upgrade). */
  drop(match: (firstLine: string) => boolean): number {
    let n = 0;
    for (const p of [...this.pairs]) {
      if (!match(p.firstLine)) continue;
      p.client.destroy();
      p.upstream.destroy();
      this.pairs.delete(p);
      n++;
    }
    return n;
  }

  /**
   * From now on the matching connections bring the client nothing more, not even the platform's close: what the
   * platform sends is read and discarded, and its end of the connection going away is not passed on (the
   * client's socket stays open, silent). What the client sends still goes upstream while upstream is there.
   */
  freeze(match: (firstLine: string) => boolean): number {
    let n = 0;
    for (const p of this.pairs) {
      if (!match(p.firstLine)) continue;
      p.upstream.unpipe(p.client);
      p.upstream.removeAllListeners('close');
      p.upstream.removeAllListeners('error');
      p.upstream.on('error', () => undefined);
      p.upstream.on('data', () => undefined);
      p.client.unpipe(p.upstream);
      p.client.on('data', (chunk: Buffer) => {
        if (!p.upstream.destroyed) p.upstream.write(chunk);
      });
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    this.drop(() => true);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * An agent_api session started over HTTP but not played yet (status `created`), so a spectator can attach
 * before the first tick; `play()` then plays it with the bots' own socket runner and policy, logging the
 * traffic on `play-ws#1`.
 */
export async function prepareSession(
  baseUrl: string,
  slug: moltstation.MoltSlug,
  seed: string,
  simulatorOptions?: Record<string, unknown>,
): Promise<{ sessionId: string; traffic: TrafficLog; play: (decide: (frame: any) => unknown, signal?: AbortSignal) => Promise<moltstation.SocketRun> }> {
  const traffic = new TrafficLog();
  const client = new moltstation.MoltClient({ baseUrl, traffic });
  await client.login(slug, moltstation.walletFor(seed));
  const sessionId = await client.startSession(slug, 'agent_api', simulatorOptions);
  const play = async (decide: (frame: any) => unknown, signal?: AbortSignal): Promise<moltstation.SocketRun> => {
    const token = await client.playToken(slug, sessionId);
    return moltstation.runSocket({
      wsBase: client.wsBase,
      slug,
      role: 'play',
      sessionId,
      token,
      authStyle: 'message',
      stream: 'play-ws#1',
      traffic,
      signal,
      onMessage: (msg, send) => {
        if (msg?.t !== 'frame' || msg.frame?.phase === 'ended') return;
        const out = decide(msg.frame);
        if (out !== undefined) send(out);
      },
    });
  };
  return { sessionId, traffic, play };
}

/** Frames (exact text) a bot received on a stream of its traffic log. */
export function botFrames(traffic: TrafficLog, stream: string): string[] {
  return traffic
    .of(stream)
    .filter((e) => e.channel === 'ws' && e.direction === 'received' && typeof e.data === 'string' && e.data.startsWith('{"t":"frame"'))
    .map((e) => e.data as string);
}
