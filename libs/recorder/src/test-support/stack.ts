/** The proxy → recorder → ingest → store stack over a real simulator and Postgres, for the recorder's integration tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { EventStore, StoredEvent, verifySession } from '@rewind/event-store';
import { startSimulator, RunningSimulator } from '@rewind/simulator';
import { createTestPool, waitFor } from '@rewind/testing';
import { Ingest } from '@rewind/ingest';
import { startRecordingProxy, type ProxiedPlatform, type RecordingProxyOptions, type RunningRecordingProxy } from '@rewind/proxy';
import { Redactor } from '@rewind/redaction';
import { Recorder, RecorderOptions } from '../recorder';
import { readStreams } from './compare';

export interface RecorderStack {
  pool: Pool;
  store: EventStore;
  ingest: Ingest;
  recorder: Recorder;
  sim: RunningSimulator;
  proxy: RunningRecordingProxy;
  /** Error lines the recorder and the ingest logged. */
  errors: string[];
  /**
   * Waits until at most `open` streams are open, checks that nothing failed or was logged as an error, that
   * everything is stored and that every chain verifies; returns every stream this recorder opened.
   */
  settle(open?: number): Promise<Map<string, StoredEvent[]>>;
  close(): Promise<void>;
}

export async function startRecorderStack(o: {
  seed: string;
  platforms: readonly ProxiedPlatform[];
  simulator?: Parameters<typeof startSimulator>[0]['platformOptions'];
  proxy?: Partial<Pick<RecordingProxyOptions, 'maxWsMessageBytes' | 'maxHttpBodyBytes'>>;
  recorder?: Partial<Pick<RecorderOptions, 'sealAfterMs' | 'accountIdleMs'>>;
}): Promise<RecorderStack> {
  const pool = createTestPool(2);
  const store = new EventStore(pool);
  const dir = mkdtempSync(join(tmpdir(), 'rewind-recorder-stack-'));
  const errors: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: (m: string) => errors.push(m) };
  const ingest = await Ingest.open({ store, journalDir: dir, log });
  const recorder = new Recorder({ ingest, store, redactor: new Redactor(randomBytes(32)), log, sealAfterMs: 100, accountIdleMs: 100, ...o.recorder });
  const sim = await startSimulator({ port: 0, seed: o.seed, ...(o.simulator ? { platformOptions: o.simulator } : {}) });
  const proxy = await startRecordingProxy({
    port: 0,
    upstreams: Object.fromEntries(o.platforms.map((p) => [p, sim.baseUrl(p)])),
    sink: recorder,
    ...o.proxy,
  });
  return {
    pool,
    store,
    ingest,
    recorder,
    sim,
    proxy,
    errors,
    async settle(open = 0) {
      await waitFor(`at most ${open} streams open`, () => recorder.stats(), { until: (s) => s.openStreams <= open }).catch(() => undefined); // the expect below says what is left
      expect(recorder.stats()).toMatchObject({ openStreams: open, failures: 0 });
      await ingest.waitUntilStored();
      const streams = await readStreams(
        store,
        recorder.openedStreams().map((s) => s.id),
      );
      for (const id of streams.keys()) expect((await verifySession(store, id))?.ok).toBe(true);
      expect(errors).toEqual([]);
      return streams;
    },
    async close() {
      await proxy.close();
      await sim.close();
      recorder.close();
      await ingest.close();
      await pool.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
