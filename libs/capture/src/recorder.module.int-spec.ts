import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getQueueToken } from '@nestjs/bullmq';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Pool } from 'pg';
import { runSpaceMoltHttpMiner, TrafficLog } from '@rewind/agents';
import { EventStore, StoredEvent } from '@rewind/event-store';
import { startSimulator, RunningSimulator } from '@rewind/simulator';
import { createTestPool, testDatabaseUrl, testRedisUrl } from '@rewind/testing';
import { CaptureProcessor } from './capture-processor';
import { RecorderModule, RecorderService } from './recorder.module';
import { bullmqScheduler } from './schedulers';
import { taskRunners } from './task-runners';
import { RunSignalBoard } from './run-signals';

/** RecorderModule in a Nest application context of its own, against the shared Postgres and Redis. */
describe('RecorderModule (a Nest module: providers, @Processor, lifecycle hooks)', () => {
  let sim: RunningSimulator;
  let pool: Pool;
  let dataDir: string;
  let app: INestApplicationContext | undefined;
  const logs: string[] = [];

  beforeAll(async () => {
    pool = createTestPool(2);
    dataDir = mkdtempSync(join(tmpdir(), 'rewind-module-'));
    sim = await startSimulator({ port: 0, seed: 'module-spec', platformOptions: { spacemolt: { tickMs: 50 } } });
  });

  afterAll(async () => {
    await app?.close();
    await sim.close();
    await pool.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('boots, records an exchange proxied through it, and on app.close() flushes it to the store and hands the capture queue back', async () => {
    const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(`ERROR ${m}`) };
    const queueName = `module-spec-${randomUUID().slice(0, 8)}`;
    const signals = new RunSignalBoard(null, log);
    const upstreams = { spacemolt: sim.baseUrl('spacemolt') };
    const module = RecorderModule.forRoot({
      databaseUrl: testDatabaseUrl(),
      proxyPort: 0,
      upstreams,
      dataDir,
      instance: 'module-spec',
      redactionKey: randomBytes(32),
      sealAfterMs: 60_000,
      signals,
      scheduler: bullmqScheduler({ redisUrl: testRedisUrl(), holder: 'module-spec', concurrency: 3, queueName, log }),
      runners: taskRunners({ upstreams, signals }),
      log,
    });
    app = await NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });
    const service = app.get(RecorderService);
    // The capture queue is BullModule's, and the worker its @Processor's, running with the coordinator's options.
    const queue = app.get<Queue>(getQueueToken(queueName));
    expect(queue.name).toBe(queueName);
    const processor: CaptureProcessor = app.get(RecorderModule.processorClass(module)!);
    expect(processor.worker.isRunning()).toBe(true);
    expect(processor.worker.opts).toMatchObject({ concurrency: 3, lockDuration: 5000, stalledInterval: 2000, name: 'module-spec', autorun: false });
    expect(service.stats().tasks).toMatchObject({ holder: 'module-spec', started: true, concurrency: 3 });

    const traffic = new TrafficLog();
    await runSpaceMoltHttpMiner({ baseUrl: `${service.proxyUrl}/spacemolt`, seed: 'module', traffic, cycles: 1 });
    const run = service.recorder.openedStreams().find((s) => s.kind === 'run' && s.platform === 'spacemolt');
    expect(run).toBeDefined();
    const ids = service.recorder.openedStreams().map((s) => s.id);
    const recorded = service.stats().recorder.events;
    expect(recorded).toBeGreaterThan(0);

    // Nothing is waited for before the close: the close itself records what is held and makes it durable.
    const closing = app.close();
    app = undefined;
    await closing;
    expect(processor.worker.closing).toBeDefined();
    const store = new EventStore(pool);
    const stored: StoredEvent[] = [];
    for (const id of ids) for await (const e of store.readSession(id)) stored.push(e);
    // Every event the recorder took (and the end the close recorded) is in Postgres.
    expect(stored.length).toBeGreaterThanOrEqual(recorded);
    const { rows } = await pool.query<{ status: string }>(`SELECT status FROM sessions WHERE id = $1`, [run!.id]);
    expect(rows[0]?.status).not.toBe('open');
    expect(logs.filter((l) => l.startsWith('ERROR'))).toEqual([]);
  }, 60_000);
});
