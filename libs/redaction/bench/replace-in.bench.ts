/**
 * Micro-benchmark of the secret registry (not a test; run once by hand):
 *   node -r ./scripts/register.js libs/redaction/bench/replace-in.bench.ts
 * µs per `replaceIn` of a 775-character JSON frame (and `replaceInBytes` of its bytes) with 0, 100, 1,000 and
 * 4,096 remembered secrets (CPU time), with no secret in the frame and with one; and µs per newly learnt secret followed by
 * one `replaceIn` (what a recorder pays when every session brings new tokens).
 */
import { createHash } from 'node:crypto';
import { SecretRegistry } from '../src/secret-registry';

const fingerprint = (s: string): string => `[redacted:${createHash('sha256').update(s).digest('hex').slice(0, 16)}]`;
/** Tokens as platforms hand them out: hex, base64 (URL- and JSON-escaped forms differ) and prefixed ids. */
const token = (i: number): string => {
  const h = createHash('sha256').update(`secret-${i}`).digest();
  if (i % 3 === 0) return `pt_${h.toString('hex').slice(0, 24)}`;
  if (i % 3 === 1) return h.toString('base64').slice(0, 32);
  return `eyJ${h.toString('base64url').slice(0, 40)}`;
};

function frame(withSecret: string | null): string {
  const state = {
    type: 'state',
    tick: 48213,
    session: { id: 'sess-7f3a', player: 'agent-12' },
    board: Array.from({ length: 12 }, (_, i) => ({ x: i * 7, y: (i * 13) % 29, hp: 100 - i, kind: i % 2 ? 'ship' : 'station', label: `sector-${i}` })),
    note: withSecret ?? 'none',
  };
  const text = JSON.stringify(state);
  return text.length >= 775 ? text.slice(0, 775) : text + ' '.repeat(775 - text.length);
}

/** CPU time (user + system) per call: on a shared machine it is disturbed far less than wall time. */
function usPer(fn: () => void, minMs = 400): number {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const start = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < minMs * 1000) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
    const used = process.cpuUsage(start);
    elapsed = used.user + used.system;
  }
  return elapsed / n;
}

const rows: string[] = ['| secrets | replaceIn, none in frame | replaceIn, one in frame | replaceInBytes, none | replaceInBytes, one | learn one + replaceIn |', '|---:|---:|---:|---:|---:|---:|'];
for (const count of [0, 100, 1000, 4096]) {
  const registry = new SecretRegistry(fingerprint, { maxSecrets: 4096 });
  for (let i = 0; i < count; i++) registry.remember(token(i));
  const clean = frame(null);
  const dirty = frame(count > 0 ? token(Math.floor(count / 2)) : null);
  const cleanBytes = Buffer.from(clean);
  const dirtyBytes = Buffer.from(dirty);
  if (clean.length !== 775 || dirty.length !== 775) throw new Error(`frame length ${clean.length}/${dirty.length}`);
  let sink = 0;
  const a = usPer(() => (sink += registry.replaceIn(clean).length));
  const b = usPer(() => (sink += registry.replaceIn(dirty).length));
  const c = usPer(() => (sink += registry.replaceInBytes(cleanBytes).length));
  const d = usPer(() => (sink += registry.replaceInBytes(dirtyBytes).length));
  // Learning at a constant size: the bound is the count, so each new secret evicts the oldest.
  const learning = new SecretRegistry(fingerprint, { maxSecrets: Math.max(1, count) });
  for (let i = 0; i < count; i++) learning.remember(token(i));
  let next = 1_000_000;
  const e = usPer(() => {
    learning.remember(token(next++));
    sink += learning.replaceIn(clean).length;
  }, 300);
  rows.push(`| ${count} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${c.toFixed(2)} | ${d.toFixed(2)} | ${e.toFixed(1)} |${sink < 0 ? ' ' : ''}`);
}
console.log(rows.join('\n'));
