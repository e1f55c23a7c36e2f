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
    expect(t.written).toEqual([
      `\r[${'.'.repeat(30)}] 0/10000 events exported`,
      `\r[${'#'.repeat(15)}${'.'.repeat(15)}] 5000/10000 events exported`,
      `\r[${'#'.repeat(30)}] 10000/10000 events exported`,
      '\r\x1b[K',
    ]);
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
