import { RunningSimulator, startSimulator } from '@rewind/simulator';
import { httpCall } from '@rewind/testing';
import { pollCloudplaySession, pollRgsSession } from './index';
import { startTamperingRelay, testContext as newContext, waitFor } from './test-support';

const TOKEN = 'bad-answers-token-01';

/** The simulator has no fault for a 500 or a malformed body: a relay in front of it replaces chosen answers. */
describe('pollers against bad platform answers', () => {
  let sim: RunningSimulator;
  const contexts: ReturnType<typeof newContext>[] = [];
  const testContext = (): ReturnType<typeof newContext> => {
    const c = newContext();
    contexts.push(c);
    return c;
  };
  beforeEach(async () => {
    sim = await startSimulator({ port: 0, seed: 'bad-answers', platformOptions: { cloudplay: { downloadMs: [50, 100], containerStartMs: [150, 200], idleTimeoutMs: 60_000 } } });
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) c.abort.abort();
    await sim.close();
  });

  it('cloud-play: records a 500 and a malformed 200, keeps polling, and ends when the seen session turns 404', async () => {
    let statusCalls = 0;
    let gone = false;
    const relay = await startTamperingRelay(sim.baseUrl('cloudplay'), (_method, path) => {
      if (!path.startsWith('/api/game/session-status')) return undefined;
      statusCalls++;
      if (gone) return { status: 404, body: '{"error":"not_found","message":"no such session"}' };
      if (statusCalls === 2) return { status: 500, body: '{"error":"internal_error"}' };
      if (statusCalls === 3) return { status: 200, body: '{"sessionId": "ses' };
      return undefined;
    });
    try {
      const launch = await httpCall(`${sim.baseUrl('cloudplay')}/api/game/launch`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: { gameSlug: 'the-aleph' } });
      expect(launch.status).toBe(202);
      const ctx = testContext();
      const done = pollCloudplaySession({ baseUrl: `${relay.url}`, sessionId: launch.json.sessionId, getToken: () => TOKEN, intervalMs: 10 }, ctx);
      await waitFor(() => ctx.sink.notes('status-transition').some((n) => n.detail['to'] === 'running'), 'running after the bad answers');
      gone = true;
      const result = await done;
      expect(result).toMatchObject({ status: 'ended', reason: 'not_found' });

      const recorded = ctx.sink.exchanges().filter((e) => e.req.path.startsWith('/api/game/session-status'));
      expect(recorded.slice(0, 3).map((e) => e.res!.status)).toEqual([200, 500, 200]);
      expect(recorded[2]!.res!.body.toString()).toBe('{"sessionId": "ses'); // exact bytes, not re-serialised
      expect(recorded.at(-1)!.res!.status).toBe(404);
      expect(ctx.sink.notes('bad-response')).toHaveLength(1);
      expect(ctx.sink.notes('session-gone')).toHaveLength(1);
      // The 500 and the malformed answer are no transitions: starting → running only.
      expect(ctx.sink.notes('status-transition').map((n) => n.detail['to'])).toEqual(['starting', 'running']);
      expect(ctx.sink.exchanges().at(-1)!.req.path).toBe('/api/game/sessions');
    } finally {
      await relay.close();
    }
  });

  it('RGS: records a malformed history and a 500 balance, and recovers at the next poll', async () => {
    let historyCalls = 0;
    let balanceCalls = 0;
    const relay = await startTamperingRelay(sim.baseUrl('rgs'), (_method, path) => {
      if (path.startsWith('/game/history') && ++historyCalls === 1) return { status: 200, body: '[{"id": ' };
      if (path === '/game/balance' && ++balanceCalls === 1) return { status: 500, body: 'Internal Server Error', contentType: 'text/plain' };
      return undefined;
    });
    try {
      const launch = await httpCall(`${sim.baseUrl('rgs')}/operator/launch`, {
        method: 'POST',
        headers: { authorization: 'Bearer rgs-operator-dev-key' },
        body: { playerId: 'bad-1', gameCode: 'dice-alpha' },
      });
      const token = new URL(launch.json.launchUrl).searchParams.get('sessionToken') as string;
      let activity = Date.now();
      const play = async (): Promise<string> => {
        activity = Date.now();
        const r = await httpCall(`${sim.baseUrl('rgs')}/game/play`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: { amount: '1.00', target: 50, condition: 'under' } });
        expect(r.status).toBe(200);
        return r.json.round.id;
      };
      const first = await play();
      const ctx = testContext();
      const done = pollRgsSession({ baseUrl: relay.url, getToken: () => token, lastActivityAtMs: () => activity, intervalMs: 5 }, ctx);
      await waitFor(() => ctx.sink.responses().some((r) => r.status === 500), 'the 500');
      const second = await play();
      await waitFor(() => ctx.sink.requests().some((r) => r.path === `/game/round/${second}`), 'the second round recorded');

      const history = ctx.sink.exchanges().filter((e) => e.req.path === '/game/history?limit=100');
      expect(history[0]!.res!.body.toString()).toBe('[{"id": ');
      // The polls after the malformed answer recover: each records the history as it changes — [first] when a poll
      // came before the second round was played (the test cannot order the two), then [second, first].
      const lists = history.slice(1).map((h) => (h.json as { id: string }[]).map((r) => r.id));
      expect(lists.at(-1)).toEqual([second, first]);
      expect(lists.slice(0, -1).every((l) => l.length === 1 && l[0] === first)).toBe(true);
      const balance = ctx.sink.exchanges().filter((e) => e.req.path === '/game/balance');
      expect(balance[0]!.res).toMatchObject({ status: 500 });
      expect(balance[0]!.res!.body.toString()).toBe('Internal Server Error');
      expect(ctx.sink.notes('bad-response').map((n) => n.detail['path'])).toEqual(['/game/history']);
      expect(ctx.sink.requests().filter((r) => r.path === `/game/round/${first}`)).toHaveLength(1);
      ctx.abort.abort();
      await expect(done).resolves.toEqual({ status: 'aborted' });
    } finally {
      await relay.close();
    }
  });
});
