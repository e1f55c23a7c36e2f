import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { CaptureSink } from '@rewind/capture-facts';
import { EventStore } from '@rewind/event-store';
import { Ingest } from '@rewind/ingest';
import { Redactor } from '@rewind/redaction';
import { createTestPool } from '@rewind/testing';
import { Recorder } from './recorder';

/**
 * The sink's `flush`: the write-ahead log writes a turn's items at the turn's end; the recording proxy calls
 * `flush` before it relays a turn's messages, so a message is in the log before it is relayed. These checks read
 * the log synchronously, within the turn the facts were captured in (an await would let the turn end).
 */
describe('Recorder.flush: what this turn captured is in the write-ahead log when flush returns', () => {
  let pool: Pool;
  let dir: string;
  let ingest: Ingest;
  let recorder: Recorder;

  beforeEach(async () => {
    pool = createTestPool(2);
    const store = new EventStore(pool);
    dir = mkdtempSync(join(tmpdir(), 'rewind-recorder-flush-'));
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    ingest = await Ingest.open({ store, journalDir: dir, writeAhead: true, flushIntervalMs: 600_000, log });
    recorder = new Recorder({ ingest, store, redactor: new Redactor(randomBytes(32)), log });
  });
  afterEach(async () => {
    recorder.close();
    await ingest.close();
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The write-ahead log's lines on disk, read synchronously. */
  const walLines = (): string[] =>
    readdirSync(join(dir, 'wal'))
      .filter((n) => n.endsWith('.ndjson'))
      .flatMap((n) => readFileSync(join(dir, 'wal', n), 'utf8').split('\n'))
      .filter((l) => l !== '');

  it('given a socket opened and a frame relayed in this turn, when flush is called, then both are in the log before the turn ends, and a second flush writes nothing', () => {
    const sink: CaptureSink = recorder;
    const at = { atNs: process.hrtime.bigint(), wallUs: Date.now() * 1000 };
    const frame = '{"type":"frame","seq":1,"tick":7,"marker":"flush-probe-4f1c"}';
    sink.capture({ type: 'ws-open', platform: 'moltstation', connectionId: 'ws-1', ...at, path: '/ws/flappybots/play?sessionId=flush-1', headers: [] });
    sink.capture({ type: 'ws-message', platform: 'moltstation', connectionId: 'ws-1', ...at, direction: 'platform_to_client', data: frame, binary: false });
    expect(walLines().some((l) => l.includes('flush-probe-4f1c'))).toBe(false); // held until the turn's end
    sink.flush?.();
    const lines = walLines();
    expect(lines.filter((l) => l.includes('flush-probe-4f1c'))).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('{"t":"open"'))).toBe(true);
    sink.flush?.();
    expect(walLines()).toEqual(lines);
    expect(recorder.stats().failures).toBe(0);
  });
});
