import { asNumber, asObject, asString, jsonObject, refOf } from '../evidence/json';
import type { EvidenceEvent, Finding, RunEvidence } from '../evidence/types';

/**
 * SpaceMolt audit: credits and cargo ledgers recomputed from the platform's own messages in the proxy stream.
 * Observations are the player's credits (`player.credits`) and cargo used (`ship.cargo_used`, get_cargo's
 * `used`, a mine result's `cargo_used`) wherever a status-like payload shows them (WS frames, HTTP v1 `result`,
 * v2 `structuredContent`). Between two observations the reported changes must account for the difference:
 * sell `total_earned` / `quantity_sold`, buy `total_cost` / `quantity`, station refuel `cost`, fuel-cell refuel
 * `cells_used`, mine `quantity`, `player_died` `insurance_payout − clone_cost` (and the lost cargo).
 * Mutation results arrive inline (HTTP sell/buy/refuel) or as `action_result` messages/notifications; the
 * latter are counted once per `command@tick` (one pending action per player per tick), so a peeked
 * notification seen twice moves nothing twice.
 */

/** One step of the ledger, in the order the platform reported it. */
type Entry =
  | { kind: 'observe'; credits?: number; cargo?: number; event: EvidenceEvent }
  | { kind: 'change'; credits: number; cargo: number; what: string; event: EvidenceEvent }
  | { kind: 'cargo-lost'; event: EvidenceEvent };

type Metric = 'credits' | 'cargo';

/** Recomputes SpaceMolt credits and cargo from the run's recorded platform messages (checks `spacemolt.*`). */
export function auditSpaceMolt(run: RunEvidence): Finding[] {
  const entries = ledgerEntries(run);
  return [...checkLedger(entries, 'credits'), ...checkLedger(entries, 'cargo'), ...checkEarned(entries)];
}

function ledgerEntries(run: RunEvidence): Entry[] {
  const events = run.streams
    .filter((s) => s.role === 'proxy')
    .flatMap((s) => s.events)
    .filter((e) => e.direction === 'platform_to_client' && e.kind !== 'request')
    .sort((a, b) => a.recordedAtUs - b.recordedAtUs || a.seq - b.seq);
  const seen = new Set<string>();
  const entries: Entry[] = [];
  /** An action_result's outcome, once per command@tick. */
  const actionResult = (data: Record<string, unknown>, event: EvidenceEvent): void => {
    const key = `${asString(data['command'])}@${asNumber(data['tick'])}`;
    if (seen.has(key)) return;
    seen.add(key);
    resultEntries(asObject(data['result']), event, entries);
  };
  const push = (type: string | undefined, data: Record<string, unknown> | undefined, event: EvidenceEvent): void => {
    if (!data) return;
    if (type === 'action_result') actionResult(data, event);
    else if (type === 'player_died') {
      entries.push({ kind: 'change', credits: (asNumber(data['insurance_payout']) ?? 0) - (asNumber(data['clone_cost']) ?? 0), cargo: 0, what: 'player_died', event });
      entries.push({ kind: 'cargo-lost', event });
    }
  };
  for (const e of events) {
    if (e.channel === 'http') {
      const body = jsonObject(e);
      if (!body) continue;
      const result = asObject(body['result']);
      const notifications = [body['notifications'], result?.['notifications']].flatMap((n) => (Array.isArray(n) ? n : []));
      for (const n of notifications.map(asObject)) push(asString(n?.['msg_type']), asObject(n?.['data']), e);
      const main = asObject(body['structuredContent']) ?? result;
      if (main && main['pending'] !== true) resultEntries(main, e, entries);
      observe(main, e, entries);
    } else {
      for (const msg of wsMessages(e)) {
        const type = asString(msg['type']);
        const payload = asObject(msg['payload']);
        push(type, payload, e);
        if (type !== 'action_result') observe(payload, e, entries);
      }
    }
  }
  return entries;
}

/** The JSON messages of a WebSocket frame (a frame may carry several, newline-joined). */
function wsMessages(e: EvidenceEvent): Record<string, unknown>[] {
  if (e.body === null || e.bodyEncoding !== 'utf8') return [];
  return e.body
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      const m = jsonObject({ body: line, bodyEncoding: 'utf8' });
      return m ? [m] : [];
    });
}

/** The credit and cargo change of one mutation result (`result.action`), and the cargo a mine result shows. */
function resultEntries(r: Record<string, unknown> | undefined, event: EvidenceEvent, entries: Entry[]): void {
  const action = asString(r?.['action']);
  if (!r || !action) return;
  const n = (k: string): number => asNumber(r[k]) ?? 0;
  const change = (credits: number, cargo: number): void => void entries.push({ kind: 'change', credits, cargo, what: action, event });
  if (action === 'sell') change(n('total_earned'), -n('quantity_sold'));
  else if (action === 'buy') change(-n('total_cost'), n('quantity'));
  else if (action === 'refuel') change(-n('cost'), -n('cells_used'));
  else if (action === 'mine') {
    change(0, n('quantity'));
    const cargo = asNumber(r['cargo_used']);
    if (cargo !== undefined) entries.push({ kind: 'observe', cargo, event });
  }
}

/** Credits and cargo used, where a status-like payload shows them. */
function observe(p: Record<string, unknown> | undefined, event: EvidenceEvent, entries: Entry[]): void {
  if (!p) return;
  const credits = asNumber(asObject(p['player'])?.['credits']);
  const cargo = asNumber(asObject(p['ship'])?.['cargo_used']) ?? (Array.isArray(p['cargo']) ? asNumber(p['used']) : undefined);
  if (credits !== undefined || cargo !== undefined) entries.push({ kind: 'observe', credits, cargo, event });
}

const where = (e: EvidenceEvent): string => `${e.msgType ?? e.kind} #${e.seq}`;
const signed = (n: number): string => (n < 0 ? `${n}` : `+${n}`);

/** `spacemolt.credits` / `spacemolt.cargo`: each observation = the previous one + the changes reported in between. */
function checkLedger(entries: Entry[], metric: Metric): Finding[] {
  const check = `spacemolt.${metric}`;
  const findings: Finding[] = [];
  let last: { value: number; event: EvidenceEvent } | undefined;
  let sum = 0;
  let changes = 0;
  let compared = 0;
  let observations = 0;
  for (const entry of entries) {
    if (entry.kind === 'change') {
      sum += entry[metric];
      if (entry[metric] !== 0) changes++;
      continue;
    }
    if (entry.kind === 'cargo-lost') {
      if (metric === 'cargo') last = undefined;
      continue;
    }
    const value = entry[metric];
    if (value === undefined) continue;
    observations++;
    if (last) {
      compared++;
      const expected = last.value + sum;
      if (value !== expected)
        findings.push({
          check,
          status: 'mismatch',
          subject: where(entry.event),
          expected,
          found: value,
          at: refOf(entry.event),
          detail: `${metric} observed ${value}, but ${last.value} at ${where(last.event)} ${signed(sum)} reported since = ${expected}`,
        });
    }
    last = { value, event: entry.event };
    sum = 0;
  }
  if (compared === 0) return [{ check, status: 'unverifiable', detail: `${observations} observation(s) of ${metric}: at least two are needed` }];
  const bad = findings.length;
  return [{ check, status: 'ok', detail: `${compared - bad} of ${compared} consecutive ${metric} observations follow from ${changes} reported changes` }, ...findings];
}

/** `spacemolt.earned`: last credits observation − first = Σ credit changes reported in between. */
function checkEarned(entries: Entry[]): Finding[] {
  const check = 'spacemolt.earned';
  const observed = entries.flatMap((e, i) => (e.kind === 'observe' && e.credits !== undefined ? [{ i, credits: e.credits, event: e.event }] : []));
  const first = observed[0];
  const last = observed[observed.length - 1];
  if (!first || !last || first === last) return [{ check, status: 'unverifiable', detail: `${observed.length} credits observation(s): at least two are needed` }];
  const reported = entries.slice(first.i, last.i + 1).reduce((a, e) => a + (e.kind === 'change' ? e.credits : 0), 0);
  const change = last.credits - first.credits;
  const detail = `credits ${first.credits} at ${where(first.event)} → ${last.credits} at ${where(last.event)} (${signed(change)}); reported changes ${signed(reported)}`;
  if (change === reported) return [{ check, status: 'ok', detail }];
  return [{ check, status: 'mismatch', subject: 'run', expected: reported, found: change, at: refOf(last.event), detail }];
}
