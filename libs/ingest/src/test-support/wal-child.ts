/**
 * A recorder's Ingest killed mid-run (for ingest.int-spec.ts): records `n` events of one session with the
 * write-ahead log on and a flush interval too long for any of them to reach Postgres, says how many it
 * recorded, writes the turn's items to the log (`flushWriteAhead`, as the recording proxy does before it relays;
 * the log otherwise writes a turn's items at the turn's end: see `WriteAheadLog`), then SIGKILLs itself. Args: databaseUrl journalDir sessionId n.
 */
import { writeSync } from 'node:fs';
import { createPgPool } from '@rewind/db';
import { EventStore } from '@rewind/event-store';
import { Ingest } from '../ingest';

async function main(): Promise<void> {
  const [databaseUrl, journalDir, sessionId, n] = process.argv.slice(2) as [string, string, string, string];
  const pool = createPgPool(databaseUrl, { max: 1 });
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const ingest = await Ingest.open({ store: new EventStore(pool), journalDir, writeAhead: true, flushIntervalMs: 600_000, batchSize: 1_000_000, log: quiet });
  ingest.openSession({ id: sessionId, platform: 'moltstation', game: 'flappybots', startedAt: new Date() });
  for (let i = 1; i <= Number(n); i++) {
    ingest.record(sessionId, {
      kind: 'frame',
      direction: 'platform_to_client',
      channel: 'play_ws',
      format: i % 10 === 0 ? 'binary' : 'json',
      body: i % 10 === 0 ? Buffer.from([i % 256, 0, 255]) : `{"t":"frame","frame":{"tick":${i}}}`,
      tick: i,
    });
  }
  ingest.endSession(sessionId, new Date('2026-11-23T12:00:00Z'), { score: Number(n) });
  // What the recording proxy does before relaying a turn's messages: the turn's items are in the log now.
  ingest.flushWriteAhead();
  // Killed in the same turn (a synchronous write of the line first): nothing but that flush wrote the log.
  writeSync(1, `recorded ${n}\n`);
  process.kill(process.pid, 'SIGKILL');
}

void main();
