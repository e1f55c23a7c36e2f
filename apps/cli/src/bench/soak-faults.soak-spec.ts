/**
 * The soak with every scripted fault, small (6 sessions × 24 s): Postgres and Redis restarts, a recorder and
 * the pipeline SIGKILLed, the platform restarted, a network stall — then the whole reconciliation. Runs in a
 * Jest pass of its own after the rest of the suite (scripts/test.sh), so it does not share the machine's cores
 * with other timing-sensitive tests. Its report: test-output/soak-faults.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { testDatabaseUrl, testRedisUrl } from '@rewind/testing';
import { runSoak, SOAK_FAULTS } from './soak';

const REPORT = path.resolve(__dirname, '../../../../test-output/soak-faults.md');

describe('rewind bench soak with every fault (small)', () => {
  it('given every scripted fault during mixed play, then each fault shows its effect, nothing is lost, duplicated or reordered, every stream verifies and is sealed, and every ended run is handed off once', async () => {
    const lines: string[] = [];
    const result = await runSoak({
      serverUrl: testDatabaseUrl(),
      redisUrl: testRedisUrl(),
      sessions: 6,
      seconds: 24,
      replays: 2,
      faults: [...SOAK_FAULTS],
      out: (line) => lines.push(line),
    });
    mkdirSync(path.dirname(REPORT), { recursive: true });
    writeFileSync(REPORT, `${lines.join('\n')}\n`);
    // Every scripted fault happened and took effect (a fault with no observed effect proves nothing about recovery).
    expect(result.faults.map((f) => ({ fault: f.fault, effect: f.effect.seen ? 'observed' : `NOT observed: ${f.effect.evidence}` }))).toEqual(
      SOAK_FAULTS.map((fault) => ({ fault, effect: 'observed' })),
    );
    expect(result.problems).toEqual([]);
    expect(result.faults.map((f) => f.fault)).toEqual([...SOAK_FAULTS]);
    const r = result.reconciliation;
    expect(r).not.toBeNull();
    expect(r!.wsRuns).toBeGreaterThan(5);
    expect(r).toMatchObject({ wsBotOnly: 0, wsStoreOnly: 0, chainFailures: [], unsealed: 0 });
    // Every message the bot sent or received is stored, but for what it sent into a connection being cut under it,
    // which nobody read (soak-worker.ts `cutTails`: only tails, only on a 1006, the rest of the run exact).
    expect(r!.wsMessagesMatched + r!.wsUnread).toBe(r!.wsMessagesBot);
    // Every HTTP exchange a bot made is stored once, answered or not, but for those that never reached a proxy (a
    // connection refused or reset under a killed recorder: the bot logged a transport error, the proxy read nothing).
    expect(r!.httpMatched + r!.httpNeverReached).toBe(r!.httpBot);
    expect(r!.httpStored).toBe(r!.httpMatched);
    expect(r!.httpNeverReached).toBeLessThanOrEqual(r!.httpNoAnswer);
    expect(r!.chainsOk).toBe(r!.streams);
    expect(result.handoffs.outboxRows).toBeGreaterThan(0);
    expect(result.handoffs).toMatchObject({ missing: 0, duplicates: 0, extra: 0 });
    expect(result.ok).toBe(true);
  }, 600_000);
});
