import { EventStore, StoredEvent } from '@rewind/event-store';
// TODO(lead): becomes `from '@rewind/replay'` once the alias is in tsconfig.base.json.
import { LatenessProbe, MAX_SPEED, MIN_SPEED, ReplayEmission, ReplayError, ReplaySession, ReplaySummary, storeSource, validateSpeed } from '@rewind/replay';
import { intOption, ParsedArgs, rejectUnknown, UsageError } from '../args';
import { openPool, startRuntime } from '../runtime';

const fail = (message: string): number => {
  process.stderr.write(`rewind: ${message}\n`);
  return 1;
};

/**
 * rewind replay <sessionId> [--speed N] [--from-seq N] [--skip-idle MS] [--json]: replays a stored session
 * in real time (scaled by --speed), printing each event as it plays, then a summary line. Exits 1 for an
 * unknown session, a bad speed or a start past the end.
 */
export async function replayCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, ['speed', 'from-seq', 'skip-idle', 'json']);
  const [id, ...extra] = args.positionals;
  if (id === undefined || extra.length > 0) throw new UsageError('rewind replay needs exactly one session id');
  const json = args.options.has('json');
  const rawSpeed = args.options.get('speed');
  let speed = 1;
  if (rawSpeed !== undefined) {
    try {
      speed = validateSpeed(rawSpeed === true || rawSpeed.trim() === '' ? NaN : Number(rawSpeed));
    } catch {
      return fail(`--speed must be a number from ${MIN_SPEED} to ${MAX_SPEED} (got ${rawSpeed === true ? 'nothing' : JSON.stringify(rawSpeed)})`);
    }
  }
  const fromSeq = args.options.has('from-seq') ? intOption(args, 'from-seq', 1, 1, 2_147_483_647) : undefined;
  const skipIdleMs = args.options.has('skip-idle') ? intOption(args, 'skip-idle', 0, 0) : undefined;

  const runtime = await startRuntime({ redis: false });
  const pool = openPool(runtime, 2);
  let onSigint: (() => void) | null = null;
  try {
    const store = new EventStore(pool);
    const session = await store.getSession(id);
    if (!session) return fail(`session ${id} not found`);
    const replay = new ReplaySession(storeSource(store, id), {
      speed,
      ...(skipIdleMs !== undefined ? { skipIdleMs } : {}),
      ...(fromSeq !== undefined ? { from: { seq: fromSeq } } : {}),
    });
    const probe = new LatenessProbe();
    replay.on('event', (e) => {
      probe.record(e);
      process.stdout.write((json ? JSON.stringify(eventJson(e)) : eventLine(e)) + '\n');
    });
    if (!json) {
      process.stdout.write(
        `replaying ${id}  ${session.platform}${session.game ? `/${session.game}` : ''}  ${session.headSeq} events  speed ${speed}` +
          `${fromSeq !== undefined ? `  from #${fromSeq}` : ''}${skipIdleMs !== undefined ? `  skip-idle ${skipIdleMs} ms` : ''}\n`,
      );
    }
    onSigint = () => replay.stop();
    process.once('SIGINT', onSigint);
    try {
      await replay.start();
    } catch (e) {
      if (e instanceof ReplayError) return fail(e.message);
      throw e;
    }
    const summary = await replay.done;
    process.stdout.write((json ? JSON.stringify(summaryJson(id, summary, probe)) : summaryLine(summary, probe)) + '\n');
    return 0;
  } finally {
    if (onSigint) process.off('SIGINT', onSigint);
    await pool.end();
  }
}

function eventLine(e: ReplayEmission<StoredEvent>): string {
  const ev = e.event;
  const parts = [`+${(ev.offsetUs / 1e6).toFixed(3)}s `, `#${ev.seq}`, ev.kind, ev.channel, ev.direction];
  if (ev.tick !== null) parts.push(`tick=${ev.tick}`);
  if (ev.msgType !== null) parts.push(`type=${ev.msgType}`);
  if (ev.requestId !== null) parts.push(`req=${ev.requestId}`);
  parts.push(`${bodyBytes(ev)}B`);
  for (const m of e.markers) parts.push(`[${m.name}]`);
  parts.push(`(at ${(e.elapsedMs / 1000).toFixed(3)}s, late ${e.latenessMs.toFixed(1)}ms)`);
  return parts.join(' ');
}

function bodyBytes(ev: StoredEvent): number {
  if (ev.body === null) return 0;
  return typeof ev.body === 'string' ? Buffer.byteLength(ev.body) : ev.body.length;
}

function eventJson(e: ReplayEmission<StoredEvent>): Record<string, unknown> {
  const ev = e.event;
  return {
    type: 'event',
    seq: ev.seq,
    offsetUs: ev.offsetUs,
    recordedAtUs: ev.recordedAtUs,
    kind: ev.kind,
    direction: ev.direction,
    channel: ev.channel,
    format: ev.format,
    msgType: ev.msgType,
    tick: ev.tick,
    requestId: ev.requestId,
    meta: ev.meta,
    ...(typeof ev.body === 'string' ? { body: ev.body } : ev.body ? { bodyBase64: ev.body.toString('base64') } : { body: null }),
    markers: e.markers.map((m) => m.name),
    elapsedMs: round(e.elapsedMs),
    latenessMs: round(e.latenessMs),
  };
}

function summaryLine(s: ReplaySummary, probe: LatenessProbe): string {
  const l = probe.stats();
  const range = s.firstSeq === null ? '' : ` (#${s.firstSeq}–#${s.lastSeq})`;
  const markers = s.markers.length ? `: ${s.markers.map((m) => `${m.name}@#${m.seq}`).join(', ')}` : '';
  return (
    `${s.stopped ? 'stopped after' : 'replayed'} ${s.emitted} events${range} in ${(s.wallMs / 1000).toFixed(3)} s at speed ${s.speed}; ` +
    `${s.markers.length} markers${markers}; lateness p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms, max ${l.maxMs.toFixed(1)} ms`
  );
}

function summaryJson(sessionId: string, s: ReplaySummary, probe: LatenessProbe): Record<string, unknown> {
  const l = probe.stats();
  return {
    type: 'summary',
    sessionId,
    emitted: s.emitted,
    firstSeq: s.firstSeq,
    lastSeq: s.lastSeq,
    wallMs: round(s.wallMs),
    speed: s.speed,
    stopped: s.stopped,
    markers: s.markers,
    lateness: { meanMs: round(l.meanMs), p50Ms: round(l.p50Ms), p95Ms: round(l.p95Ms), p99Ms: round(l.p99Ms), maxMs: round(l.maxMs) },
  };
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
