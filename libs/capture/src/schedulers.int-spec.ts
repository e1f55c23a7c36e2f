import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { CaptureCoordinator } from '@rewind/scaleout';
import { testRedisUrl, waitFor } from '@rewind/testing';
import { offeringScheduler, spectateOffer } from './schedulers';
import type { TaskScheduler } from './recorder-options';

describe('offeringScheduler: each target offered once per process (real Redis)', () => {
  const lines: string[] = [];
  const log = { info: () => undefined, warn: (m: string) => lines.push(m), error: (m: string) => lines.push(`ERROR ${m}`) };
  const open: TaskScheduler[] = [];
  const queues: string[] = [];
  /** A scheduler on a queue of its own, and the target ids its coordinator was asked to offer, with the answers. */
  const scheduler = (o: { offerMemoMs?: number; redisUrl?: string; offerRetryMs?: number } = {}) => {
    const queueName = `offers-${randomBytes(6).toString('hex')}`;
    queues.push(queueName);
    const coordinator = new CaptureCoordinator({
      redisUrl: o.redisUrl ?? testRedisUrl(),
      queueName,
      holder: 'offers-test',
      run: async () => ({ status: 'ended', reason: 'test' }),
      log,
    });
    const asked: string[] = [];
    const answers: string[] = [];
    const offer = coordinator.offer.bind(coordinator);
    coordinator.offer = (target) => {
      asked.push(target.id);
      return offer(target).then((a) => (answers.push(`${target.id} ${a}`), a));
    };
    const s = offeringScheduler(coordinator, {
      log,
      ...(o.offerMemoMs !== undefined ? { offerMemoMs: o.offerMemoMs } : {}),
      ...(o.offerRetryMs !== undefined ? { offerRetryMs: o.offerRetryMs } : {}),
    });
    open.push(s);
    return { s, coordinator, asked, answers };
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    lines.length = 0;
    const raw = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    for (const q of queues.splice(0)) {
      const keys = await raw.keys(`rewind:${q}:*`);
      if (keys.length) await raw.del(...keys);
    }
    raw.disconnect();
  });

  it('offers a target the proxy and the discovery both name once; another target on its own', async () => {
    const { s, coordinator, asked, answers } = scheduler();
    const a = spectateOffer('shellrunners', `ms-${randomBytes(4).toString('hex')}`);
    const b = spectateOffer('flappybots', `ms-${randomBytes(4).toString('hex')}`);
    s.offer(a); // the proxy saw the session start
    s.offer(a); // the live list, while the first offer is in flight
    await waitFor('the first offer answered', () => answers, { until: (x) => x.length === 1 });
    s.offer(a); // the live list again, once it was answered
    s.offer(b);
    await waitFor('both targets offered', () => answers, { until: (x) => x.length === 2 });
    expect(asked).toEqual([a.id, b.id]);
    expect(answers).toEqual([`${a.id} added`, `${b.id} added`]);
    expect((await coordinator.describe(a.id))?.state).toBe('waiting');
    expect((await coordinator.describe(b.id))?.state).toBe('waiting');
  });

  it('offers a target again once the memo has expired (the queue says it exists)', async () => {
    const { s, asked, answers } = scheduler({ offerMemoMs: 1 });
    const a = spectateOffer('shellrunners', `ms-${randomBytes(4).toString('hex')}`);
    s.offer(a);
    await waitFor('the first offer answered', () => answers, { until: (x) => x.length === 1 });
    s.offer(a);
    await waitFor('the second offer answered', () => answers, { until: (x) => x.length === 2 });
    expect(asked).toEqual([a.id, a.id]);
    expect(answers).toEqual([`${a.id} added`, `${a.id} exists`]);
  });

  it('does not remember an offer that failed: the next one of the target is made', async () => {
    // A Redis nobody listens on: every offer fails (after the coordinator's wait for a connection).
    const { s, asked } = scheduler({ redisUrl: 'redis://127.0.0.1:9', offerRetryMs: 0 });
    const a = spectateOffer('shellrunners', `ms-${randomBytes(4).toString('hex')}`);
    s.offer(a);
    await waitFor('the offer given up', () => lines, { until: (l) => l.some((m) => m.startsWith('ERROR') && m.includes(a.id)) });
    s.offer(a);
    await waitFor('the target offered again', () => asked, { until: (x) => x.length === 2 });
    expect(asked).toEqual([a.id, a.id]);
  });
});
