import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { breakdown, CpuProfile, formatBreakdown, isWriterThread, profileBreakdown, stageTimes } from './profile-stages';

const R = '/repo';
const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0, columnNumber: 0 }, children });

/**
 * A main thread: the relay (ws → libs/proxy) calls the fact emitter, which calls the Recorder → encoder →
 * redaction (native JSON.parse under the encoder); the Ingest's record writes ahead with writeSync; an append
 * in event-store hashes with node's crypto; plus GC, (program) and idle.
 */
function mainProfile(): CpuProfile {
  const nodes = [
    frame(1, '(root)', '', [2, 3, 4, 5, 20]),
    frame(2, '(idle)', ''),
    frame(3, '(garbage collector)', ''),
    frame(4, '(program)', ''),
    frame(5, 'onStreamRead', 'node:internal/stream_base_commons', [6]),
    frame(6, 'Receiver.getData', `${R}/node_modules/ws/lib/receiver.js`, [7]),
    frame(7, 'onMessage', `${R}/libs/proxy/src/ws-forwarder.ts`, [8, 16]),
    frame(8, 'emitMessage', `${R}/libs/proxy/src/facts.ts`, [9, 10]),
    frame(9, 'toString', ''),
    frame(10, 'capture', `${R}/libs/recorder/src/recorder.ts`, [11, 14]),
    frame(11, 'encode', `${R}/libs/recorder/src/encoder/encode.ts`, [12, 13]),
    frame(12, 'parse', ''),
    frame(13, 'redactText', `${R}/libs/redaction/src/redactor.ts`),
    frame(14, 'append', `${R}/libs/ingest/src/write-ahead.ts`, [15]),
    frame(15, 'writeSync', 'node:fs'),
    frame(16, 'send', `${R}/node_modules/ws/lib/sender.js`, [17]),
    frame(17, 'writeGeneric', 'node:internal/stream_base_commons'),
    frame(20, 'writeBatch', `${R}/libs/event-store/src/append.ts`, [21]),
    frame(21, 'update', 'node:internal/crypto/hash', [22]),
    frame(22, 'update', ''),
  ];
  // One sample per 100 µs: [id, count]
  const plan: [number, number][] = [
    [2, 10], // idle
    [3, 2], // gc
    [4, 1], // program
    [5, 3], // node stream internals under nothing of Rewind's → relay
    [6, 2], // ws → relay
    [7, 1], // libs/proxy → relay
    [17, 1], // net write under ws under libs/proxy → relay
    [9, 2], // toString under facts.ts → facts
    [10, 1], // recorder adapter
    [12, 3], // JSON.parse under the encoder → encoding
    [13, 4], // redaction
    [15, 5], // writeSync under write-ahead → wal
    [22, 2], // native hash update under node crypto under event-store → hashing
    [20, 1], // event-store itself → copy
  ];
  const samples: number[] = [];
  for (const [id, n] of plan) for (let i = 0; i < n; i++) samples.push(id);
  return { nodes, startTime: 1_000_000, endTime: 1_000_000 + samples.length * 100, samples, timeDeltas: samples.map(() => 100) };
}

describe('bench CPU profile stages', () => {
  it('given a main thread profile, when its samples are attributed, then each stage gets the time of the frames of its own code and of what it called', () => {
    const t = stageTimes(mainProfile());
    expect(t.idleUs).toBe(1000);
    // The last sample counts for the mean interval (here exactly 100 µs), like every other.
    expect(t.us).toEqual(
      expect.objectContaining({ gc: 200, program: 100, relay: 700, facts: 200, recorder: 100, encoding: 300, redaction: 400, wal: 500, hashing: 200, copy: 100, lifecycle: 0, ingest: 0, other: 0 }),
    );
    expect(t.samples).toBe(38);
  });

  it('given windows, when attributed, then only the samples inside them count', () => {
    // Samples are at 1_000_100, 1_000_200, … : the first 10 (through 1_001_000) are idle, the next 2 GC.
    const t = stageTimes(mainProfile(), [{ fromUs: 1_001_000, toUs: 1_001_250 }]);
    expect(t.samples).toBe(3);
    expect(t.us.gc).toBe(200);
    expect(t.idleUs).toBe(100);
  });

  it('given a writer thread, when Node internals run with nothing of Rewind above them, then they count as the Postgres connection (COPY / pg)', () => {
    const nodes = [
      frame(1, '(root)', '', [2, 3]),
      frame(2, 'processTicksAndRejections', 'node:internal/process/task_queues', [4]),
      frame(3, 'main', `${R}/libs/ingest/src/writer-thread-main.ts`),
      frame(4, 'handleDataRow', `${R}/node_modules/pg-protocol/dist/parser.js`),
    ];
    const p: CpuProfile = { nodes, startTime: 0, endTime: 400, samples: [2, 2, 4, 3], timeDeltas: [100, 100, 100, 100] };
    expect(isWriterThread(p)).toBe(true);
    const t = stageTimes(p, [], 'writer');
    expect(t.us.copy).toBe(300);
    expect(t.us.handoff).toBe(100);
    expect(stageTimes(p, [], 'main').us.relay).toBe(200);
  });

  it('given both threads and the measured CPU, when combined, then each stage is its share of the sampled time scaled to the CPU per message', () => {
    const main = stageTimes(mainProfile());
    const b = breakdown([{ thread: 'main', times: main }], 5_600, 4);
    // 28 non-idle samples of 100 µs: redaction 4 of them → 4/28 of 1,400 µs per message.
    expect(b.share.redaction).toBeCloseTo(4 / 28, 10);
    expect(b.usPerMessage.redaction).toBeCloseTo(200, 10);
    expect(Object.values(b.usPerMessage).reduce((a, v) => a + v, 0)).toBeCloseTo(1_400, 6);
    const table = formatBreakdown(b);
    expect(table[0]).toContain('µs per relayed message');
    expect(table.find((l) => l.startsWith('| redaction'))).toContain('| 200.0 |');
    expect(table.at(-1)).toContain('1400.0');
  });

  it('given a directory of .cpuprofile files, when read for one pid, then only the threads of that process count', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-profile-stages-'));
    try {
      fs.writeFileSync(path.join(dir, 'CPU.20260101.120000.42.0.001.cpuprofile'), JSON.stringify(mainProfile()));
      fs.writeFileSync(path.join(dir, 'CPU.20260101.120000.43.0.001.cpuprofile'), JSON.stringify({ ...mainProfile(), samples: [3], timeDeltas: [100] }));
      const b = profileBreakdown(dir, 42, [], 2_800, 1);
      expect(b.profiles).toBe(1);
      expect(b.sampledUs.main).toBe(2_800);
      expect(b.usPerMessage.wal).toBeCloseTo(500, 6);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
