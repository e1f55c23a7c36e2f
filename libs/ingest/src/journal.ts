import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeItem, encodeItem } from './journal-codec';
import { IngestItem } from './types';

export interface SegmentInfo {
  name: string;
  /** Ordinal (record order) of the segment's first item: segments are drained in this order. */
  firstOrdinal: number;
  events: number;
  oldestWallUs: number | null;
}

/** What a journal left by an earlier process holds, per session: where each stream's counters stand. */
export interface JournalScan {
  sessions: Map<string, { lastSeq: number; lastOffsetUs: number }>;
  maxOrdinal: number;
  events: number;
}

const SEGMENT = /^seg-(\d+)\.ndjson$/;

/**
 * The outage journal: a directory of NDJSON segments, each written whole (temporary file, fsync, rename,
 * fsync of the directory), so a crash never leaves a torn segment. A segment is named after the record
 * ordinal of its first item, so segments drain in record order even when an older in-flight batch is
 * journaled after a newer spill. Drained segments are deleted. Writes are serialised.
 */
export class Journal {
  private readonly segments = new Map<string, SegmentInfo>();
  private readonly pending = new Set<{ firstOrdinal: number; events: number; oldestWallUs: number | null }>();
  private chain: Promise<void> = Promise.resolve();
  readonly rejectedDir: string;

  constructor(readonly dir: string) {
    this.rejectedDir = join(dir, 'rejected');
  }

  /** Creates the directory, removes unfinished temporary files and indexes the segments left behind. */
  async init(): Promise<JournalScan> {
    await mkdir(this.rejectedDir, { recursive: true });
    const scan: JournalScan = { sessions: new Map(), maxOrdinal: 0, events: 0 };
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.tmp')) await unlink(join(this.dir, name)); // never renamed: never durable, never acknowledged
    }
    for (const name of (await readdir(this.dir)).filter((n) => SEGMENT.test(n))) {
      const items = await this.read(name);
      let events = 0;
      let oldestWallUs: number | null = null;
      for (const item of items) {
        scan.maxOrdinal = Math.max(scan.maxOrdinal, item.ordinal);
        if (item.type !== 'event') continue;
        events++;
        const e = item.event;
        oldestWallUs = oldestWallUs === null ? e.recordedAtUs : Math.min(oldestWallUs, e.recordedAtUs);
        const s = scan.sessions.get(e.sessionId);
        if (!s) scan.sessions.set(e.sessionId, { lastSeq: e.seq, lastOffsetUs: e.offsetUs });
        else if (e.seq > s.lastSeq) scan.sessions.set(e.sessionId, { lastSeq: e.seq, lastOffsetUs: Math.max(s.lastOffsetUs, e.offsetUs) });
      }
      scan.events += events;
      this.segments.set(name, { name, firstOrdinal: Number((SEGMENT.exec(name) as RegExpExecArray)[1]), events, oldestWallUs });
    }
    return scan;
  }

  /** Events in the journal, written or being written. */
  get events(): number {
    let n = 0;
    for (const s of this.segments.values()) n += s.events;
    for (const p of this.pending) n += p.events;
    return n;
  }

  get isEmpty(): boolean {
    return this.segments.size === 0 && this.pending.size === 0;
  }

  /** The smallest ordinal handed to the journal but not yet durable (null if none). */
  minPendingOrdinal(): number | null {
    let min: number | null = null;
    for (const p of this.pending) if (min === null || p.firstOrdinal < min) min = p.firstOrdinal;
    return min;
  }

  /** The smallest ordinal in the journal, written or being written (null if empty). */
  minOrdinal(): number | null {
    let min: number | null = null;
    for (const s of [...this.segments.values(), ...this.pending]) if (min === null || s.firstOrdinal < min) min = s.firstOrdinal;
    return min;
  }

  oldestWallUs(): number | null {
    let min: number | null = null;
    for (const s of [...this.segments.values(), ...this.pending]) {
      if (s.oldestWallUs !== null && (min === null || s.oldestWallUs < min)) min = s.oldestWallUs;
    }
    return min;
  }

  /** Writes the items as one durable segment (queued behind earlier writes). Rejects if the disk refuses. */
  write(items: IngestItem[]): Promise<void> {
    const first = items[0];
    if (!first) return Promise.resolve();
    const events = items.filter((i) => i.type === 'event');
    const oldestWallUs = events.reduce<number | null>((m, i) => (i.type === 'event' && (m === null || i.event.recordedAtUs < m) ? i.event.recordedAtUs : m), null);
    const marker = { firstOrdinal: first.ordinal, events: events.length, oldestWallUs };
    this.pending.add(marker);
    const name = `seg-${String(first.ordinal).padStart(15, '0')}.ndjson`;
    const run = this.chain.then(async () => {
      try {
        await writeDurably(this.dir, name, items.map(encodeItem).join('\n') + '\n');
        this.segments.set(name, { name, firstOrdinal: first.ordinal, events: events.length, oldestWallUs });
      } finally {
        this.pending.delete(marker);
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every write handed over so far has finished. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Finished segments in drain order. */
  list(): SegmentInfo[] {
    return [...this.segments.values()].sort((a, b) => a.firstOrdinal - b.firstOrdinal);
  }

  async read(name: string): Promise<IngestItem[]> {
    const text = await readFile(join(this.dir, name), 'utf8');
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => decodeItem(line));
  }

  async remove(name: string): Promise<void> {
    await unlink(join(this.dir, name));
    this.segments.delete(name);
    await syncDir(this.dir);
  }

  /** Keeps data the store refused, per session, for a human to look at; never deleted by Rewind. */
  async reject(sessionId: string | null, items: IngestItem[]): Promise<void> {
    if (items.length === 0) return;
    const fh = await open(join(this.rejectedDir, `${sessionId ?? 'unknown'}.ndjson`), 'a', 0o600);
    try {
      await fh.writeFile(items.map(encodeItem).join('\n') + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

async function writeDurably(dir: string, name: string, data: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
