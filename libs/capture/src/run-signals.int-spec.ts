import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { CredentialVault } from '@rewind/scaleout';
import { testRedisUrl, waitFor } from '@rewind/testing';
import { RunSignalBoard } from './run-signals';
import { SIGNALS_READ } from './task-runners';

describe('RunSignalBoard: what is mirrored to the vault (real Redis)', () => {
  const redisUrl = testRedisUrl();
  const secret = randomBytes(32);
  const log = { info: () => undefined, warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };
  const warnings: string[] = [];
  let raw: Redis;
  let prefix: string;
  const vaults: CredentialVault[] = [];
  const board = (): RunSignalBoard => {
    const v = new CredentialVault({ redis: redisUrl, secret, prefix, log });
    vaults.push(v);
    return new RunSignalBoard(v, log, 60_000, 50);
  };
  /** The vault's keys, as `<run>:<name>`. */
  const stored = async (): Promise<string[]> => (await raw.keys(`${prefix}:*`)).map((k) => k.slice(prefix.length + 1)).sort();

  beforeAll(() => {
    raw = new Redis(redisUrl, { maxRetriesPerRequest: null });
  });
  afterAll(() => raw.disconnect());
  beforeEach(() => {
    prefix = `test-signals-${randomBytes(6).toString('hex')}`;
    warnings.length = 0;
  });
  afterEach(async () => {
    await Promise.all(vaults.splice(0).map((v) => v.close()));
    const keys = await raw.keys(`${prefix}:*`);
    if (keys.length) await raw.del(...keys);
  });

  it('mirrors every credential and expiry as it is learned, and the activity only of runs whose offered task reads it (RGS)', async () => {
    const a = board();
    const t0 = Date.now();
    // A MoltStation run: its owner's bearer is mirrored (the pipeline submits the run's snapshot with it), its activity is not (its spectator reads none).
    a.putCredential('session:ms-1', 'bearer', 'ms-owner-token');
    a.touch('session:ms-1', t0);
    a.want({ kind: 'moltstation-spectate', runKey: 'session:ms-1' });
    a.touch('session:ms-1', t0 + 2000);
    // A SpaceMolt run (no task): its activity stays in memory.
    a.touch('session:sm-1', t0);
    a.touch('session:sm-1', t0 + 2000);
    expect(a.lastActivityAtMs('session:sm-1')).toBe(t0 + 2000);
    expect(a.lastActivityAtMs('session:ms-1')).toBe(t0 + 2000);
    // A cloud-play run: its bearer, not its activity (its poller reads the bearer only).
    a.putCredential('session:cp-1', 'bearer', 'cp-bearer');
    a.touch('session:cp-1', t0);
    a.want({ kind: 'cloudplay-poll', runKey: 'session:cp-1' });
    a.touch('session:cp-1', t0 + 2000);
    // An RGS run: token and expiry as learned; its activity from the offer on (what was known by then at once).
    a.putCredential('session:rgs-1', 'sessionToken', 'rgs-token-1', t0 + 60_000);
    a.touch('session:rgs-1', t0);
    a.want({ kind: 'rgs-poll', runKey: 'session:rgs-1' });
    const want = ['session:cp-1:bearer', 'session:ms-1:bearer', 'session:rgs-1:activity', 'session:rgs-1:expires', 'session:rgs-1:sessionToken'];
    // The unwanted writes, had there been any, went first on the same connection: once the wanted ones are there, they would be too.
    const keys = await waitFor('the credentials and the RGS run’s activity mirrored', () => stored(), { until: (k) => want.every((w) => k.includes(w)) });
    expect(keys).toEqual(want);
    const reader = new CredentialVault({ redis: redisUrl, secret, prefix, log });
    vaults.push(reader);
    expect(await reader.getMany('session:rgs-1', ['activity', 'sessionToken'])).toEqual([String(t0), 'rgs-token-1']);
    expect(await reader.get('session:ms-1', 'bearer')).toBe('ms-owner-token');
    // Later activity of the RGS run is mirrored too (at most once a second).
    a.touch('session:rgs-1', t0 + 1500);
    await waitFor('the RGS run’s later activity mirrored', () => reader.get('session:rgs-1', 'activity'), { until: (v) => v === String(t0 + 1500) });
    expect(await stored()).toEqual(want);
    expect(warnings).toEqual([]);
  });

  it('a follower in another process reads the signals its task reads, as they change', async () => {
    const proxy = board();
    const poller = board();
    const t0 = Date.now();
    proxy.putCredential('session:rgs-2', 'sessionToken', 'rgs-token-2', t0 + 60_000);
    proxy.want({ kind: 'rgs-poll', runKey: 'session:rgs-2' });
    proxy.touch('session:rgs-2', t0);
    proxy.putCredential('session:cp-2', 'bearer', 'cp-bearer-2');
    proxy.want({ kind: 'cloudplay-poll', runKey: 'session:cp-2' });
    const stops = [poller.follow('session:rgs-2', SIGNALS_READ['rgs-poll']), poller.follow('session:cp-2', SIGNALS_READ['cloudplay-poll'])];
    try {
      await waitFor(
        'the follower sees the RGS run’s token, expiry and activity, and the cloud-play bearer',
        () => ({
          token: poller.credential('session:rgs-2', 'sessionToken'),
          expires: poller.expiresAtMs('session:rgs-2'),
          activity: poller.lastActivityAtMs('session:rgs-2'),
          bearer: poller.credential('session:cp-2', 'bearer'),
        }),
        { until: (s) => s.token === 'rgs-token-2' && s.expires === t0 + 60_000 && s.activity === t0 && s.bearer === 'cp-bearer-2' },
      );
      // A refreshed token and later activity reach it too.
      proxy.putCredential('session:rgs-2', 'sessionToken', 'rgs-token-3', t0 + 90_000);
      proxy.touch('session:rgs-2', t0 + 1000);
      await waitFor('the follower sees the new token and activity', () => [poller.credential('session:rgs-2', 'sessionToken'), poller.lastActivityAtMs('session:rgs-2')], {
        until: ([token, activity]) => token === 'rgs-token-3' && activity === t0 + 1000,
      });
    } finally {
      for (const stop of stops) stop();
    }
  });
});
