import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWalBench } from './wal';

describe('rewind bench wal', () => {
  it('measures a positive cost per event, with frames of the asked size, and leaves no log file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wal-bench-spec-'));
    const lines: string[] = [];
    try {
      const r = runWalBench({ events: 12_000, bodyBytes: 600, runs: 2, dir, out: (l) => lines.push(l) });
      expect(r.usPerEvent).toHaveLength(2);
      expect(r.usPerEvent.every((us) => us > 0 && Number.isFinite(us))).toBe(true);
      expect(r.leftOver).toBe(0);
      expect(lines[0]).toMatch(/12,000 events of (6\d\d|7\d\d) bytes, 2 run\(s\)/);
      for (const run of readdirSync(dir)) expect(readdirSync(join(dir, run)).filter((f) => f.endsWith('.ndjson'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
