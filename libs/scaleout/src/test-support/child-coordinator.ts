// Test fixture: a recorder-like process running one CaptureCoordinator whose task writes a heartbeat line
// (holder, takeover, attempt) to a Redis list every 100 ms until aborted or until the stop key appears.
// Env: see ChildEnv in helpers.ts. Prints {"ready":true} once started; SIGTERM closes gracefully.
import Redis from 'ioredis';
import { CaptureCoordinator } from '../coordinator';

const env = process.env;
const redisUrl = required('REDIS_URL');
const holder = required('HOLDER');
const hbKey = required('HB_KEY');
const stopKey = required('STOP_KEY');
const busyMs = Number(env.BUSY_MS ?? 0);
const busyEveryMs = Number(env.BUSY_EVERY_MS ?? 1000);

const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const log = {
  info: (m: string) => process.stderr.write(`info ${m}\n`),
  warn: (m: string) => process.stderr.write(`warn ${m}\n`),
  error: (m: string) => process.stderr.write(`error ${m}\n`),
};

const coordinator = new CaptureCoordinator({
  redisUrl,
  queueName: required('QUEUE'),
  prefix: required('PREFIX'),
  holder,
  log,
  ...(env.LOCK_MS ? { lockDurationMs: Number(env.LOCK_MS) } : {}),
  ...(env.STALLED_MS ? { stalledIntervalMs: Number(env.STALLED_MS) } : {}),
  run: ({ target, signal, takeover, attempt, previous }) =>
    new Promise((resolve) => {
      let lastBusy = Date.now();
      const beat = async () => {
        if (signal.aborted) return;
        if (busyMs > 0 && Date.now() - lastBusy >= busyEveryMs) {
          // A busy stretch of the event loop (e.g. a large frame being parsed).
          const until = Date.now() + busyMs;
          while (Date.now() < until) {
            /* spin */
          }
          lastBusy = Date.now();
        }
        const line = {
          holder,
          targetId: target.id,
          takeover,
          attempt,
          previousHolder: previous?.holder ?? null,
          previousHow: previous?.how ?? null,
          at: Date.now(),
        };
        await redis.rpush(hbKey, JSON.stringify(line));
        if ((await redis.exists(stopKey)) === 1) finish({ status: 'ended', reason: 'stop key' });
      };
      const timer = setInterval(() => void beat().catch((e: Error) => log.warn(`heartbeat: ${e.message}`)), 100);
      const finish = (result: { status: 'ended'; reason: string } | { status: 'aborted' }) => {
        clearInterval(timer);
        resolve(result);
      };
      if (signal.aborted) finish({ status: 'aborted' });
      else signal.addEventListener('abort', () => finish({ status: 'aborted' }), { once: true });
    }),
});

process.on('SIGTERM', () => {
  void coordinator.close().then(() => {
    process.stdout.write(JSON.stringify({ closed: true }) + '\n');
    redis.disconnect();
    process.exit(0);
  });
});

void coordinator.start().then(
  () => process.stdout.write(JSON.stringify({ ready: true, holder }) + '\n'),
  (e: Error) => {
    log.error(`start: ${e.message}`);
    process.exit(1);
  },
);

function required(name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}
