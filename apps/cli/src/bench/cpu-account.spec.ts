import { cpuPerEvent, CpuLedger, cpuSeconds, REWIND_CPU_KINDS } from './cpu-account';

describe('bench CPU accounting', () => {
  describe('CpuLedger', () => {
    it('given processes alive at the start, when read again, then only the CPU spent since the start counts, per kind', () => {
      const ledger = new CpuLedger([
        { kind: 'recorder', pid: 10, seconds: 5 },
        { kind: 'recorder', pid: 11, seconds: 7 },
        { kind: 'api', pid: 12, seconds: 1 },
      ]);
      ledger.observe([
        { kind: 'recorder', pid: 10, seconds: 6 },
        { kind: 'recorder', pid: 11, seconds: 7.5 },
      ]);
      ledger.observe([{ kind: 'api', pid: 12, seconds: 3 }]);
      expect(ledger.totals()).toEqual({ recorder: { seconds: 1.5, processes: 2 }, api: { seconds: 2, processes: 1 } });
    });

    it('given a process that started during the window, when read, then its whole CPU counts', () => {
      const ledger = new CpuLedger([{ kind: 'recorder', pid: 10, seconds: 5 }]);
      ledger.observe([{ kind: 'recorder', pid: 20, seconds: 0.8 }]);
      expect(ledger.totals()['recorder']).toEqual({ seconds: 0.8, processes: 2 });
    });

    it('given a killed process, when it is no longer read, then it keeps what it had at its last reading', () => {
      const ledger = new CpuLedger([{ kind: 'pipeline', pid: 30, seconds: 2 }]);
      ledger.observe([{ kind: 'pipeline', pid: 30, seconds: 4 }]);
      ledger.observe([{ kind: 'pipeline', pid: 31, seconds: 1 }]);
      expect(ledger.totals()['pipeline']).toEqual({ seconds: 3, processes: 2 });
    });

    it('given a pid reused by a new process (CPU went down, or another kind), when read, then the old one is kept and the new one counts whole', () => {
      const ledger = new CpuLedger([{ kind: 'postgres backends', pid: 40, seconds: 10 }]);
      ledger.observe([{ kind: 'postgres backends', pid: 40, seconds: 12 }]);
      ledger.observe([{ kind: 'postgres backends', pid: 40, seconds: 0.5 }]);
      ledger.observe([{ kind: 'bots', pid: 40, seconds: 0.25 }]);
      expect(ledger.totals()).toEqual({ 'postgres backends': { seconds: 2.5, processes: 2 }, bots: { seconds: 0.25, processes: 1 } });
    });

    it('given unreadable processes (NaN), when read, then they are ignored', () => {
      const ledger = new CpuLedger([{ kind: 'api', pid: 50, seconds: NaN }]);
      ledger.observe([{ kind: 'api', pid: 51, seconds: NaN }]);
      expect(ledger.totals()).toEqual({});
    });
  });

  describe('cpuPerEvent', () => {
    it('given CPU per kind and events stored, when computed, then Rewind is the sum of its kinds per event, the others apart', () => {
      const c = cpuPerEvent(
        {
          recorder: { seconds: 2, processes: 2 },
          pipeline: { seconds: 0.5, processes: 1 },
          api: { seconds: 0.5, processes: 1 },
          'postgres backends': { seconds: 0.75, processes: 6 },
          'postgres server': { seconds: 0.25, processes: 3 },
          bots: { seconds: 9, processes: 1 },
          simulator: { seconds: 3, processes: 2 },
        },
        100_000,
      );
      expect(c.rewindSeconds).toBe(4);
      expect(c.rewindUsPerEvent).toBe(40);
      expect(c.rewindUsPerEventWithoutServer).toBe(37.5);
      expect(c.rows.map((r) => r.kind)).toEqual([...REWIND_CPU_KINDS, 'bots', 'simulator']);
      expect(c.rows.find((r) => r.kind === 'recorder')).toEqual({ kind: 'recorder', processes: 2, seconds: 2, usPerEvent: 20, shareOfRewind: 0.5, rewind: true });
      expect(c.rows.find((r) => r.kind === 'bots')).toEqual({ kind: 'bots', processes: 1, seconds: 9, usPerEvent: 90, shareOfRewind: NaN, rewind: false });
    });

    it('given a Rewind kind never seen, when computed, then it is a row of zero', () => {
      const c = cpuPerEvent({ recorder: { seconds: 1, processes: 1 } }, 1000);
      expect(c.rows.find((r) => r.kind === 'api')).toEqual({ kind: 'api', processes: 0, seconds: 0, usPerEvent: 0, shareOfRewind: 0, rewind: true });
      expect(c.rewindUsPerEvent).toBe(1000);
    });

    it('given no event stored, when computed, then the per-event figures are NaN, not infinite', () => {
      const c = cpuPerEvent({ recorder: { seconds: 1, processes: 1 } }, 0);
      expect(c.rewindUsPerEvent).toBeNaN();
      expect(c.rows[0]?.usPerEvent).toBeNaN();
    });
  });

  it('reads a live process CPU from /proc, NaN for none or a gone one', () => {
    expect(cpuSeconds(process.pid)).toBeGreaterThanOrEqual(0);
    expect(cpuSeconds(undefined)).toBeNaN();
    expect(cpuSeconds(2 ** 30)).toBeNaN();
  });
});
