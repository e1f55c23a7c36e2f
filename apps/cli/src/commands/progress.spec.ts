import { progressBar } from './export';

/** A terminal that keeps what was written to it. */
const terminal = (isTTY: boolean) => {
  const written: string[] = [];
  return { written, out: { isTTY, write: (chunk: string) => written.push(chunk) > 0 } };
};

describe('the export/import progress bar', () => {
  it('given a long session on a terminal, when progress is reported, then one line is redrawn in place and cleared at the end', () => {
    const t = terminal(true);
    const bar = progressBar('exported', 5000, t.out);
    bar.update({ sessionId: 's', events: 0, total: 10_000 });
    bar.update({ sessionId: 's', events: 5_000, total: 10_000 });
    bar.update({ sessionId: 's', events: 10_000, total: 10_000 });
    bar.clear();
    // cli-progress draws each frame from the first column (in place), at most once per ms-scale throttle (so a
    // frame between the first and the last may be skipped), and erases the line when cleared.
    const frames = t.written.filter((c) => c.startsWith('['));
    expect(frames[0]).toBe(`[${'.'.repeat(30)}] 0/10000 events exported`);
    expect(frames.at(-1)).toBe(`[${'#'.repeat(30)}] 10000/10000 events exported`);
    expect(frames.slice(1, -1).every((f) => f === `[${'#'.repeat(15)}${'.'.repeat(15)}] 5000/10000 events exported`)).toBe(true);
    t.written.forEach((c, i) => c.startsWith('[') && expect(t.written[i - 1]).toBe('\x1b[1G'));
    expect(t.written.at(-1)).toBe('\x1b[2K');
    expect(t.written.join('')).not.toContain('\n');
  });

  it('given output that is not a terminal (a pipe, CI), then nothing is drawn', () => {
    const t = terminal(false);
    const bar = progressBar('imported', 5000, t.out);
    bar.update({ sessionId: 's', events: 6_000, total: 10_000 });
    bar.clear();
    expect(t.written).toEqual([]);
  });

  it('given a short session, then nothing is drawn and clear writes nothing', () => {
    const t = terminal(true);
    const bar = progressBar('exported', 5000, t.out);
    bar.update({ sessionId: 's', events: 10, total: 4_999 });
    bar.clear();
    expect(t.written).toEqual([]);
  });
});
