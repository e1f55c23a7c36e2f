import { ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { Queue } from 'bullmq';
import { bullConnection } from '@rewind/pipeline';
import { EventStore } from '@rewind/event-store';
import { aSession, createTestPool, frames, testDatabaseUrl, testRedisUrl, waitFor } from '@rewind/testing';
import { connectReplay, replayClosed, ReplayClient } from './test-support/replay-client';
import type { ClusterCommand, ClusterReport } from './test-support/cluster-api';

const ROOT = join(__dirname, '..', '..', '..', '..');
const CHILD = join(__dirname, 'test-support', 'cluster-api.ts');
const EVENTS = 120; // 6 s recorded at 20 Hz

/** The events of a socket's envelope messages, in arrival order. */
const eventSeqs = (c: ReplayClient): number[] =>
  c.texts
    .map((t) => JSON.parse(t) as { type: string; seq?: number })
    .filter((m) => m.type === 'event')
    .map((m) => m.seq as number);

describe('replay gateway in several processes sharing the port (REWIND_API_WORKERS; real Postgres and Redis)', () => {
  let pool: Pool;
  let store: EventStore;
  let child: ChildProcess;
  let port = 0;
  let pids: number[] = [];
  const sessions: string[] = [];
  const apiKey = `key-${randomBytes(12).toString('hex')}`;
  const secret = randomBytes(32);
  const reports: ClusterReport[] = [];
  const queuePrefix = `cl-${randomUUID().slice(0, 6)}`;
  let childOut = '';

  const command = (m: ClusterCommand): void => void child.send(m);

  beforeAll(async () => {
    pool = createTestPool(2);
    store = new EventStore(pool);
    for (let i = 0; i < 4; i++) {
      const s = aSession();
      await store.openSession(s);
      await store.append(frames(s.id, 1, EVENTS));
      sessions.push(s.id);
    }
    child = fork(CHILD, [testDatabaseUrl(), testRedisUrl(), apiKey, secret.toString('hex'), queuePrefix, '2'], {
      cwd: ROOT,
      execArgv: ['-r', join(ROOT, 'scripts', 'register.js')],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.stdout!.on('data', (d: Buffer) => (childOut += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (childOut += d.toString()));
    child.on('message', (m: ClusterReport) => reports.push(m));
    const ready = await waitFor(
      'the API workers ready',
      () => {
        if (child.exitCode !== null) throw new Error(`the API exited: ${childOut}`);
        return reports.find((r): r is Extract<ClusterReport, { type: 'ready' }> => r.type === 'ready');
      },
      90_000,
    );
    port = ready.port;
    pids = ready.pids;
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      command({ type: 'exit' });
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(t);
    }
    await pool?.end();
  });

  it('starts two workers on one port; streams spread over both and each plays its session whole, in order; a seek works on either', async () => {
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);
    const url = (id: string, q: string) => `ws://127.0.0.1:${port}/replay/${id}?${q}`;
    const auth = { authorization: `Bearer ${apiKey}` };
    // Four streams at speed 4 (1.5 s each): the primary hands the connections to the workers in turn.
    const clients = await Promise.all(sessions.map((id) => connectReplay(url(id, 'speed=4'), auth)));
    await waitFor('every stream playing', () => clients.every((c) => c.texts.some((t) => t.includes('"type":"event"'))) || undefined, 30_000);
    reports.length = 0;
    command({ type: 'gateways' });
    const gateways = await waitFor('the workers’ gateways', () => reports.find((r): r is Extract<ClusterReport, { type: 'gateways' }> => r.type === 'gateways'), 10_000);
    expect(gateways.workers.map((w) => w.pid).sort()).toEqual([...pids].sort());
    // Both workers hold streams: the sockets did not all land on one process.
    expect(gateways.workers.every((w) => w.connections >= 1)).toBe(true);
    expect(gateways.workers.reduce((n, w) => n + w.connections, 0)).toBe(4);

    for (const c of clients) {
      const close = await replayClosed(c);
      expect(close.code).toBe(1000);
      expect(eventSeqs(c)).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
      const end = JSON.parse(c.texts[c.texts.length - 1] as string) as { type: string; emitted: number };
      expect(end).toMatchObject({ type: 'end', emitted: EVENTS });
    }

    // Seeks, on sockets that land on both workers (two in a row: one each, in turn).
    const seekers = await Promise.all([connectReplay(url(sessions[0] as string, 'speed=1'), auth), connectReplay(url(sessions[1] as string, 'speed=1'), auth)]);
    for (const c of seekers) {
      await waitFor('playing', () => c.texts.some((t) => t.includes('"type":"event"')) || undefined, 30_000);
      const before = c.texts.length;
      c.ws.send(JSON.stringify({ type: 'seek', offsetUs: 5_000_000 })); // seq 100 is at 5.000007 s
      await waitFor('the state after the seek', () => c.texts.slice(before).find((t) => t.includes('"type":"state"')), 10_000);
      const after = await waitFor(
        'an event after the seek',
        () =>
          c.texts
            .slice(before)
            .map((t) => JSON.parse(t) as { type: string; seq?: number })
            .find((m) => m.type === 'event' && (m.seq as number) >= 100),
        10_000,
      );
      expect(after.seq).toBe(100);
      c.ws.close();
    }
  }, 120_000);

  it('/metrics answers for every worker, whichever worker a scrape reaches (the primary aggregates)', async () => {
    const auth = { authorization: `Bearer ${apiKey}` };
    // Four streams at speed 1 (6 s each), spread over both workers.
    const clients = await Promise.all(sessions.map((id) => connectReplay(`ws://127.0.0.1:${port}/replay/${id}?speed=1`, auth)));
    await waitFor('every stream playing', () => clients.every((c) => c.texts.some((t) => t.includes('"type":"event"'))) || undefined, 30_000);
    reports.length = 0;
    command({ type: 'gateways' });
    const gateways = await waitFor('the workers’ gateways', () => reports.find((r): r is Extract<ClusterReport, { type: 'gateways' }> => r.type === 'gateways'), 10_000);
    expect(gateways.workers.every((w) => w.connections >= 1)).toBe(true);
    // One job waiting in a queue every worker reads: the gauge says 1 (a sum over the workers would say 2).
    const queue = new Queue('reward-handoff', { connection: bullConnection(testRedisUrl()), prefix: queuePrefix });
    await queue.add('handoff', { probe: true });
    await queue.close();
    // Several scrapes in a row reach both workers in turn; each counts all four streams, once.
    for (let i = 0; i < 4; i++) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/^rewind_replay_streams 4$/m);
      expect(text.match(/^# TYPE rewind_replay_streams gauge$/gm)).toHaveLength(1);
      // A gauge of shared state (the queues all workers read) is one reading, not a sum per worker.
      expect(text).toMatch(/^rewind_queue_jobs\{queue="reward-handoff",state="waiting"\} 1$/m);
    }
    for (const c of clients) c.ws.close();
  }, 60_000);

  it('a replay token minted by one worker opens a stream on whichever worker takes the socket', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/sessions/${sessions[2]}/replay-token`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    // Several sockets in a row: they land on both workers, and every one is let in by the token.
    const clients = await Promise.all(Array.from({ length: 4 }, () => connectReplay(`ws://127.0.0.1:${port}/replay/${sessions[2]}?speed=32&token=${encodeURIComponent(token)}`)));
    for (const c of clients) {
      const close = await replayClosed(c);
      expect(close.code).toBe(1000);
      expect(eventSeqs(c)).toHaveLength(EVENTS);
    }
  }, 60_000);
});
