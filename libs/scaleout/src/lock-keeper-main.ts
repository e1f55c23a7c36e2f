/** The capture-lock keeper's thread (see lock-keeper.ts): renews the locks of this process's capture jobs on a Redis connection of its own. */
import { parentPort, workerData } from 'node:worker_threads';
import Redis from 'ioredis';
import type { KeeperCommand, KeeperReport } from './lock-keeper';

const { redisUrl, lockKeyPrefix, stalledKey, lockDurationMs, renewEveryMs, maxLoopSilenceMs } = workerData as {
  redisUrl: string;
  lockKeyPrefix: string;
  stalledKey: string;
  lockDurationMs: number;
  renewEveryMs: number;
  maxLoopSilenceMs: number;
};

/**
 * BullMQ's own extendLocks script (commands/extendLocks-1.lua), with flat arguments: a lock is extended only while it
 * still holds this run's token, and the job leaves the stalled set; the ids whose lock is gone or someone else's come back.
 */
const EXTEND = `
local failed = {}
local n = (#ARGV - 2) / 2
for i = 1, n do
  local jobId = ARGV[2 + i]
  local token = ARGV[2 + n + i]
  local lockKey = ARGV[1] .. jobId .. ':lock'
  if redis.call("GET", lockKey) == token then
    redis.call("SET", lockKey, token, "PX", ARGV[2])
    redis.call("SREM", KEYS[1], jobId)
  else
    table.insert(failed, jobId)
  end
end
return failed`;

const port = parentPort;
const tracked = new Map<string, string>(); // jobId → token
let lastBeat = Date.now();
let renewing = false;
let silentSince: number | null = null;
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n) => Math.min(200 * n, 2000) });
redis.on('error', () => undefined); // reported through failed renewals; the connection retries

const send = (r: KeeperReport): void => port?.postMessage(r);

async function renew(): Promise<void> {
  if (renewing || tracked.size === 0) return;
  // A main thread silent this long is hung, not busy: stop renewing, so that its captures are taken over.
  if (Date.now() - lastBeat > maxLoopSilenceMs) {
    if (silentSince === null) {
      silentSince = Date.now();
      send({ type: 'silent', ms: Date.now() - lastBeat });
    }
    return;
  }
  silentSince = null;
  renewing = true;
  const entries = [...tracked.entries()];
  try {
    const failed = (await redis.eval(EXTEND, 1, stalledKey, lockKeyPrefix, String(lockDurationMs), ...entries.map((e) => e[0]), ...entries.map((e) => e[1]))) as string[];
    if (failed.length) {
      const lost = entries.filter(([id]) => failed.includes(id)).map(([jobId, token]) => ({ jobId, token }));
      for (const l of lost) if (tracked.get(l.jobId) === l.token) tracked.delete(l.jobId);
      send({ type: 'lost', locks: lost });
    } else send({ type: 'renewed', count: entries.length });
  } catch (e) {
    // Redis away or slow: the next turn tries again (the lock holds lockDuration from the last renewal).
    send({ type: 'error', message: (e as Error).message });
  } finally {
    renewing = false;
  }
}

const timer = setInterval(() => void renew(), renewEveryMs);

port?.on('message', (m: KeeperCommand) => {
  switch (m.type) {
    case 'beat':
      lastBeat = Date.now();
      return;
    case 'track':
      tracked.set(m.jobId, m.token);
      return;
    case 'untrack':
      if (tracked.get(m.jobId) === m.token) tracked.delete(m.jobId);
      return;
    case 'close':
      clearInterval(timer);
      redis.disconnect();
      process.exit(0);
  }
});
