import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecords, encodeRecord } from './journal-codec';
import type { IngestItem, IngestLogger } from './types';

const FILE = /^wal-(\d+)\.ndjson$/;
/** Pending lines are written at once past this many UTF-16 units (~64 KiB), whatever the turn. */
const FLUSH_AT_CHARS = 64 * 1024;

interface WalFile {
  name: string;
  fd: number | null;
  firstOrdinal: number;
  lastOrdinal: number;
  bytes: number;
  openedAtMs: number;
}

/**
 * The ingest's write-ahead log: every item the Ingest takes (open, event, end, seal) is appended to a local
 * file, the lines of one event-loop turn together with one synchronous write, before the loop polls for I/O
 * again — i.e. within the turn in which the proxy relayed the message. The write goes to the kernel's page cache
 * (no fsync per item), so it survives the death of the process — SIGKILL, a crash, the OOM killer — though not
 * of the machine (the fsynced outage journal covers Postgres outages as before).
 *
 * What the batching changes, precisely: until issue 18 every item had its own `writeSync` before `record`
 * returned; now the items of a turn wait in memory until the turn's end (a `setImmediate`, the check phase of
 * the same loop iteration, or sooner once 64 KiB are pending). A process that exits by itself — `process.exit`,
 * an uncaught exception, a signal Node handles — writes them on its way out (an `exit` hook); what a SIGKILL or
 * the OOM killer can take is what the turn it lands in appended and nobody wrote yet. A caller that must not act
 * on an item before it is in the log writes the turn's items first with `flush()` (one write, nothing when
 * nothing is pending): the recording proxy, before its socket writes of a turn (through `Ingest.flushWriteAhead`
 * and the capture sink's `flush`), so a message is in the log before it is relayed, as with one write per item.
 * That write per item was a third of the recorder's own work per message (docs/benchmarks.md, issue 18).
 *
 * Each item is one record (`encodeRecord`): its journal line, or for an event with a long text body its line and then
 * the body as it is (length-prefixed, not escaped into JSON). `recover` reads both, and the journal lines of logs left
 * by versions that wrote nothing else.
 *
 * Files are named after their first item's ordinal, rotated past `maxFileBytes` or `maxFileAgeMs`, and deleted
 * once everything in them is durable (in Postgres or the journal). A process that starts on a journal directory
 * first turns what a dead predecessor's log holds into a journal segment (`recover`), which drains like any
 * other: items already stored are idempotent re-appends.
 */
export class WriteAheadLog {
  private readonly files: WalFile[] = [];
  private readonly maxFileBytes: number;
  private readonly maxFileAgeMs: number;
  private failed = false;
  /** Lines of this turn not written yet (all for the last file), their length in UTF-16 units, the flush queued. */
  private pending: string[] = [];
  private pendingChars = 0;
  private flushQueued = false;
  private readonly flushNow = (): void => {
    this.flushQueued = false;
    this.flush();
  };
  private exitHook: (() => void) | null = null;

  constructor(
    readonly dir: string,
    private readonly log: IngestLogger,
    options: { maxFileBytes?: number; maxFileAgeMs?: number } = {},
  ) {
    this.maxFileBytes = options.maxFileBytes ?? 8 * 1024 * 1024;
    this.maxFileAgeMs = options.maxFileAgeMs ?? 10_000;
  }

  /**
   * Reads what an earlier process left (in ordinal order) and hands it to `keep` (which must make it durable,
   * e.g. as a journal segment); the files are deleted once `keep` resolved. A torn last line (the machine
   * stopped mid-write) is dropped and said; an unreadable line elsewhere keeps its file aside (`*.corrupt`).
   */
  async recover(keep: (items: IngestItem[]) => Promise<void>): Promise<{ items: number; files: number }> {
    mkdirSync(this.dir, { recursive: true });
    const names = readdirSync(this.dir)
      .filter((n) => FILE.test(n))
      .sort((a, b) => Number((FILE.exec(a) as RegExpExecArray)[1]) - Number((FILE.exec(b) as RegExpExecArray)[1]));
    if (names.length === 0) return { items: 0, files: 0 };
    const items: IngestItem[] = [];
    const done: string[] = [];
    for (const name of names) {
      // Records as this version writes them, or the journal lines of an older one (an upgrade drains its log).
      const { items: out, torn, bad } = decodeRecords(readFileSync(join(this.dir, name), 'utf8'));
      if (torn) this.log.warn(`write-ahead log ${name}: its last line was cut mid-write (the machine stopped?); dropped`);
      if (bad) {
        this.log.error(`write-ahead log ${name}: record ${bad.record} cannot be read (${bad.message}); the file is kept as ${name}.corrupt`);
        renameSync(join(this.dir, name), join(this.dir, `${name}.corrupt`));
        continue;
      }
      items.push(...out);
      done.push(name);
    }
    items.sort((a, b) => a.ordinal - b.ordinal);
    if (items.length > 0) await keep(items);
    for (const name of done) unlinkSync(join(this.dir, name));
    return { items: items.length, files: done.length };
  }

  /**
   * Appends one item: written with the other items of this event-loop turn at its end (see the class comment),
   * or at once past 64 KiB pending. A disk error is said once; the Ingest goes on without the log.
   */
  append(item: IngestItem): void {
    if (this.failed) return;
    try {
      let f = this.files.at(-1);
      if (!f || f.fd === null || f.bytes + this.pendingChars >= this.maxFileBytes || Date.now() - f.openedAtMs >= this.maxFileAgeMs) {
        this.flush();
        f = this.rotate(item.ordinal);
      }
      const line = encodeRecord(item);
      this.pending.push(line);
      this.pendingChars += line.length;
      f.lastOrdinal = item.ordinal;
      if (this.pendingChars >= FLUSH_AT_CHARS) this.flush();
      else if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(this.flushNow);
        if (!this.exitHook) process.once('exit', (this.exitHook = () => this.flush()));
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * Writes what this turn appended so far (one synchronous write; nothing when nothing is pending). Called at the
   * turn's end; a caller that must know the items are in the log before it acts calls it itself: the recording
   * proxy, before its socket writes of the turn (`Ingest.flushWriteAhead`, the sink's `flush`), which keeps "a
   * message is in the log before it is relayed" with one write per turn instead of one per message.
   */
  flush(): void {
    if (this.pending.length === 0) return;
    const f = this.files.at(-1);
    const text = this.pending.length === 1 ? (this.pending[0] as string) : this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    if (this.failed || !f || f.fd === null) return;
    try {
      f.bytes += writeSync(f.fd, text);
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.failed = true;
    this.pending = [];
    this.pendingChars = 0;
    this.log.error(`cannot write the write-ahead log in ${this.dir} (${(e as Error).message}): going on without it (a crash would lose the events not yet stored)`);
  }

  /** Deletes the files whose every item is durable (ordinal below `minNotDurable`). */
  release(minNotDurable: number): void {
    this.flush();
    for (let i = 0; i < this.files.length; i++) {
      const f = this.files[i] as WalFile;
      const current = i === this.files.length - 1;
      if (f.lastOrdinal >= minNotDurable) break;
      if (current && f.fd !== null && f.bytes < this.maxFileBytes && Date.now() - f.openedAtMs < this.maxFileAgeMs) break;
      this.drop(f);
      this.files.splice(i--, 1);
    }
  }

  /** Closes the log; with `durable`, every file is deleted (everything is stored or journaled). */
  close(durable: boolean): void {
    this.flush();
    if (this.exitHook) process.off('exit', this.exitHook);
    this.exitHook = null;
    for (const f of this.files.splice(0)) {
      if (durable) this.drop(f);
      else if (f.fd !== null) closeSync(f.fd);
    }
  }

  /** Bytes in the files on disk, and those of this turn about to be (the metrics' rewind_wal_bytes). */
  get bytes(): number {
    let n = this.pendingChars;
    for (const f of this.files) n += f.bytes;
    return n;
  }

  /** Files on disk (tests, stats). */
  get fileCount(): number {
    return this.files.length;
  }

  private rotate(firstOrdinal: number): WalFile {
    const last = this.files.at(-1);
    if (last && last.fd !== null) {
      closeSync(last.fd);
      last.fd = null;
    }
    if (!existsSync(this.dir)) mkdirSync(this.dir, { recursive: true });
    const name = `wal-${String(firstOrdinal).padStart(15, '0')}.ndjson`;
    const f: WalFile = { name, fd: openSync(join(this.dir, name), 'a'), firstOrdinal, lastOrdinal: firstOrdinal - 1, bytes: 0, openedAtMs: Date.now() };
    this.files.push(f);
    return f;
  }

  private drop(f: WalFile): void {
    if (f.fd !== null) closeSync(f.fd);
    f.fd = null;
    try {
      unlinkSync(join(this.dir, f.name));
    } catch {
      // already gone
    }
  }
}
