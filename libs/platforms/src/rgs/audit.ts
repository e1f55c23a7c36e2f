import { sha256Hex, verifyRound, type VerifyRoundInput } from './provably-fair';
import { asNumber, asObject, asString, jsonBody, metaOf, refOf } from '../evidence/json';
import type { EvidenceEvent, Finding, RunEvidence } from '../evidence/types';

/**
 * RGS casino audit, recomputed from the HTTP exchanges of the proxy (the agent's play) and the poller (round
 * details, history, balance, seeds). Money is compared in integer cents ("1.08" → 108).
 */

/** One sighting of a round: a play/action response (live) or a GET /game/round/{id} body (details). */
interface RoundRecord {
  id: string;
  source: 'live' | 'details';
  gameId: string;
  amount: number | undefined;
  payout: number | undefined;
  multiplier: number | undefined;
  raw: { amount: string; payout: string; multiplier: string };
  settled: boolean;
  seed: { serverSeedHash: string; clientSeed: string; nonce: number; serverSeed?: string } | undefined;
  state: unknown;
  event: EvidenceEvent;
}

/** A request/response pair of one stream (times in µs, the response body parsed). */
interface Exchange {
  role: string;
  method: string;
  path: string;
  reqUs: number;
  res: EvidenceEvent;
  body: unknown;
}

/** A wallet movement of the agent's play: a wager debited when a round opens, a payout credited when it settles. */
interface Movement {
  cents: number;
  reqUs: number;
  res: EvidenceEvent;
}

/** Money and multipliers ("1.08", 1.08) in hundredths; undefined when not a decimal with at most two places. */
function cents(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && Math.abs(v * 100 - Math.round(v * 100)) < 1e-6 ? Math.round(v * 100) : undefined;
  const m = typeof v === 'string' ? /^(\d+)(?:\.(\d{1,2}))?$/.exec(v.trim()) : null;
  return m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : undefined;
}

const fmt = (c: number | undefined): string => (c === undefined ? 'n/a' : `${c < 0 ? '-' : ''}${Math.floor(Math.abs(c) / 100)}.${String(Math.abs(c) % 100).padStart(2, '0')}`);
const payoutOf = (amount: number, multiplier: number): number => Math.floor((amount * multiplier) / 100);

/** Audits an RGS run: `rgs.round.payout`, `rgs.round.provably-fair`, `rgs.round.details`, `rgs.balance`, `rgs.history`. */
export function auditRgs(run: RunEvidence): Finding[] {
  const exchanges = exchangesOf(run);
  const records = exchanges.flatMap(roundRecord);
  return [...checkPayout(records), ...checkProvablyFair(records, exchanges), ...checkDetails(records), ...checkBalance(exchanges), ...checkHistory(records, exchanges)];
}

/** The successful HTTP exchanges of the recorder's proxy and poller streams, by response time. */
function exchangesOf(run: RunEvidence): Exchange[] {
  const out: Exchange[] = [];
  for (const s of run.streams) {
    if (s.role !== 'proxy' && s.role !== 'poller') continue;
    const open = new Map<string, EvidenceEvent[]>();
    for (const e of s.events) {
      if (e.channel !== 'http' && e.channel !== 'poll') continue;
      const key = e.msgType ?? '';
      if (e.kind === 'request') open.set(key, [...(open.get(key) ?? []), e]);
      if (e.kind !== 'response') continue;
      const req = open.get(key)?.shift();
      const status = asNumber(metaOf(e)['status']);
      const [method = '', target = ''] = key.split(' ');
      if (status !== undefined && (status < 200 || status > 299)) continue;
      out.push({ role: s.role, method, path: target.split('?')[0] ?? '', reqUs: req?.recordedAtUs ?? e.recordedAtUs, res: e, body: jsonBody(e) });
    }
  }
  return out.sort((a, b) => a.res.recordedAtUs - b.res.recordedAtUs || a.res.seq - b.res.seq);
}

const isPlay = (x: Exchange): boolean => x.method === 'POST' && (x.path.endsWith('/game/play') || x.path.endsWith('/game/action'));
const isDetails = (x: Exchange): boolean => x.method === 'GET' && /\/game\/round\/[^/]+$/.test(x.path);

function roundRecord(x: Exchange): RoundRecord[] {
  if (!isPlay(x) && !isDetails(x)) return [];
  const body = asObject(x.body);
  const round = asObject(body?.['round']);
  const id = asString(round?.['id']);
  if (!body || !round || !id) return [];
  const seed = asObject(body['seed']);
  const str = (k: string): string => asString(round[k]) ?? '';
  return [
    {
      id,
      source: isPlay(x) ? 'live' : 'details',
      gameId: str('gameId'),
      amount: cents(round['amount']),
      payout: cents(round['payout']),
      multiplier: cents(round['multiplier']),
      raw: { amount: str('amount'), payout: str('payout'), multiplier: str('multiplier') },
      settled: round['active'] === false && round['payout'] !== null && round['payout'] !== undefined,
      seed: seed
        ? { serverSeedHash: asString(seed['serverSeedHash']) ?? '', clientSeed: asString(seed['clientSeed']) ?? '', nonce: asNumber(seed['nonce']) ?? -1, serverSeed: asString(seed['serverSeed']) }
        : undefined,
      state: body['state'],
      event: x.res,
    },
  ];
}

/** Per round id, in time order. */
function byRound(records: RoundRecord[]): Map<string, RoundRecord[]> {
  const m = new Map<string, RoundRecord[]>();
  for (const r of records) m.set(r.id, [...(m.get(r.id) ?? []), r]);
  return m;
}

/** The settled record a round is judged by: the agent's own (live) response, else the round details. */
const settledOf = (rs: RoundRecord[]): RoundRecord | undefined => rs.find((r) => r.settled && r.source === 'live') ?? rs.find((r) => r.settled);

/** One ok finding with the count, then the mismatches; unverifiable when nothing could be checked. */
function summarize(check: string, checked: number, mismatches: Finding[], what: string, extra = ''): Finding[] {
  if (checked === 0) return [{ check, status: 'unverifiable', detail: `no ${what} recorded${extra}` }];
  return [{ check, status: 'ok', detail: `${checked - mismatches.length} of ${checked} ${what} agree${extra}` }, ...mismatches];
}

/** `rgs.round.payout`: every settled record of a round has payout = floor(amount × multiplier) to the cent. */
function checkPayout(records: RoundRecord[]): Finding[] {
  const check = 'rgs.round.payout';
  const mismatches: Finding[] = [];
  const rounds = [...byRound(records.filter((r) => r.settled)).entries()];
  for (const [id, rs] of rounds) {
    const bad = rs.find((r) => r.amount === undefined || r.multiplier === undefined || r.payout !== payoutOf(r.amount, r.multiplier));
    if (!bad) continue;
    const expected = bad.amount !== undefined && bad.multiplier !== undefined ? fmt(payoutOf(bad.amount, bad.multiplier)) : undefined;
    mismatches.push({
      check,
      status: 'mismatch',
      subject: id,
      expected,
      found: bad.raw.payout,
      at: refOf(bad.event),
      detail: `round ${id}: floor(${bad.raw.amount} × ${bad.raw.multiplier}) = ${expected ?? 'n/a'}, recorded payout ${bad.raw.payout}`,
    });
  }
  return summarize(check, rounds.length, mismatches, 'settled rounds');
}

/**
 * `rgs.round.provably-fair`: each settled round whose server seed was revealed (round details after a rotation,
 * or a rotate answer's `previous` pair with the round's commitment) verifies against the commitment shown when
 * it was played: sha256(serverSeed) = that serverSeedHash, and outcome, multiplier and payout recompute.
 */
function checkProvablyFair(records: RoundRecord[], exchanges: Exchange[]): Finding[] {
  const check = 'rgs.round.provably-fair';
  const rotations = exchanges.filter((x) => x.method === 'POST' && x.path.endsWith('/seed/rotate'));
  const mismatches: Finding[] = [];
  let verified = 0;
  let unrevealed = 0;
  for (const [id, rs] of byRound(records)) {
    const settled = settledOf(rs);
    const commit = rs.find((r) => r.seed)?.seed;
    if (!settled || !commit) continue;
    const reveals: { serverSeed: string; hash: string; event: EvidenceEvent }[] = rs.flatMap((r) =>
      r.seed?.serverSeed ? [{ serverSeed: r.seed.serverSeed, hash: r.seed.serverSeedHash, event: r.event }] : [],
    );
    for (const x of rotations) {
      const prev = asObject(asObject(x.body)?.['previous']);
      const serverSeed = asString(prev?.['serverSeed']);
      const hash = asString(prev?.['serverSeedHash']);
      if (serverSeed && hash === commit.serverSeedHash) reveals.push({ serverSeed, hash, event: x.res });
    }
    if (!reveals.length) {
      unrevealed++;
      continue;
    }
    const failure = reveals
      .map((rv) => {
        if (rv.hash !== commit.serverSeedHash)
          return { rv, expected: commit.serverSeedHash, found: rv.hash, detail: `revealed against hash ${rv.hash}, but ${commit.serverSeedHash} was shown at play` };
        const input: VerifyRoundInput = { ...commit, serverSeed: rv.serverSeed, gameId: settled.gameId, ...settled.raw, state: settled.state as VerifyRoundInput['state'] };
        const failed = verifyRound(input).checks.filter((c) => !c.ok);
        if (!failed.length) return undefined;
        const commitment = failed.some((c) => c.name === 'commitment');
        return {
          rv,
          expected: commitment ? sha256Hex(rv.serverSeed) : 'verified',
          found: commitment ? commit.serverSeedHash : failed.map((c) => c.name).join(','),
          detail: failed.map((c) => `${c.name}: ${c.detail}`).join('; '),
        };
      })
      .find((f) => f !== undefined);
    if (!failure) {
      verified++;
      continue;
    }
    mismatches.push({
      check,
      status: 'mismatch',
      subject: id,
      expected: failure.expected,
      found: failure.found,
      at: refOf(failure.rv.event),
      detail: `round ${id} does not verify: ${failure.detail}`,
    });
  }
  const checked = verified + mismatches.length;
  const findings = checked || !unrevealed ? summarize(check, checked, mismatches, 'settled rounds with a revealed server seed') : [];
  if (unrevealed) findings.push({ check, status: 'unverifiable', detail: `${unrevealed} settled round(s) whose server seed was never revealed (no /seed/rotate after them in the run)` });
  return findings;
}

/** `rgs.round.details`: GET /game/round/{id} agrees with the agent's own play/action responses of that round. */
function checkDetails(records: RoundRecord[]): Finding[] {
  const check = 'rgs.round.details';
  const mismatches: Finding[] = [];
  let checked = 0;
  for (const [id, rs] of byRound(records)) {
    const live = rs.find((r) => r.settled && r.source === 'live');
    const commit = rs.find((r) => r.source === 'live' && r.seed)?.seed;
    if (!live) continue;
    for (const d of rs.filter((r) => r.source === 'details' && r.settled)) {
      checked++;
      const view = (r: RoundRecord, seed: RoundRecord['seed']) => ({ ...r.raw, serverSeedHash: seed?.serverSeedHash, clientSeed: seed?.clientSeed, nonce: seed?.nonce });
      const expected = view(live, commit);
      const found = view(d, d.seed);
      const differ = (Object.keys(expected) as (keyof typeof expected)[]).filter((k) => expected[k] !== found[k]);
      if (differ.length) mismatches.push({ check, status: 'mismatch', subject: id, expected, found, at: refOf(d.event), detail: `round ${id}: details differ from the play in ${differ.join(', ')}` });
    }
  }
  return summarize(check, checked, mismatches, 'round details');
}

/**
 * `rgs.balance`: every recorded balance (play/action responses, /game/balance, /game/current) follows from the
 * first one the agent saw, minus the wagers plus the payouts of the agent's rounds opened/settled in between.
 * An observation whose request/response window overlaps a play may show the wallet before or after it.
 */
function checkBalance(exchanges: Exchange[]): Finding[] {
  const check = 'rgs.balance';
  const movements: Movement[] = [];
  const opened = new Set<string>();
  const settled = new Set<string>();
  let observations: { cents: number; x: Exchange; own: number }[] = [];
  for (const x of exchanges) {
    const body = asObject(x.body);
    if (!body) continue;
    const before = movements.length;
    const round = asObject(body['round']);
    const id = asString(round?.['id']);
    if (x.role === 'proxy' && isPlay(x) && round && id) {
      if (!opened.has(id)) {
        opened.add(id);
        movements.push({ cents: -(cents(round['amount']) ?? 0), reqUs: x.reqUs, res: x.res });
      }
      if (round['active'] === false && !settled.has(id)) {
        settled.add(id);
        movements.push({ cents: cents(round['payout']) ?? 0, reqUs: x.reqUs, res: x.res });
      }
    }
    const balance = cents(body['balance']);
    const observed = isPlay(x) || (x.method === 'GET' && x.path.endsWith('/game/balance')) || x.path.endsWith('/game/current');
    if (balance !== undefined && observed) observations.push({ cents: balance, x, own: movements.length > before ? movements.length : 0 });
  }
  /** Movements surely before the observation (answered before it was asked, or in its own body) and possibly before it. */
  const window = (o: (typeof observations)[number]): [number, number] => {
    const lo = Math.max(o.own, movements.filter((m) => m.res.recordedAtUs < o.x.reqUs).length);
    const hi = Math.max(lo, movements.filter((m) => m.reqUs <= o.x.res.recordedAtUs).length);
    return [lo, hi];
  };
  // The wallet is the player's (shared with their other game sessions): the poller's balances count only while
  // the agent was playing this run, between its first request and its last response.
  const proxy = exchanges.filter((x) => x.role === 'proxy');
  const start = Math.min(...proxy.map((x) => x.reqUs));
  const end = Math.max(...proxy.map((x) => x.res.recordedAtUs));
  const outside = observations.filter((o) => o.x.role !== 'proxy' && (o.x.reqUs < start || o.x.res.recordedAtUs > end));
  observations = observations.filter((o) => !outside.includes(o));
  const prefix = [0];
  for (const m of movements) prefix.push(prefix[prefix.length - 1]! + m.cents);
  const base = observations.find((o) => o.x.role === 'proxy') ?? observations[0];
  if (!base || observations.length < 2) return [{ check, status: 'unverifiable', detail: `${observations.length} balance observation(s): at least two are needed` }];
  const [baseK] = window(base);
  const mismatches: Finding[] = [];
  for (const o of observations) {
    if (o === base) continue;
    const [lo, hi] = window(o);
    const candidates = prefix.slice(lo, hi + 1).map((c) => base.cents + c - prefix[baseK]!);
    if (candidates.includes(o.cents)) continue;
    const expected = candidates.length === 1 ? fmt(candidates[0]) : candidates.map(fmt);
    mismatches.push({
      check,
      status: 'mismatch',
      subject: `${o.x.method} ${o.x.path}`,
      expected,
      found: fmt(o.cents),
      at: refOf(o.x.res),
      detail: `balance ${fmt(o.cents)} does not follow from ${fmt(base.cents)} at #${base.x.res.seq} and the wagers/payouts in between (expected ${JSON.stringify(expected)})`,
    });
  }
  const skipped = outside.length ? `; ${outside.length} poller balance(s) outside the run's play not compared (the wallet is shared with the player's other sessions)` : '';
  return summarize(check, observations.length - 1, mismatches, `balance observations (${movements.length} wager/payout movements)`, skipped);
}

/** `rgs.history`: each /game/history entry agrees (wager, payout, multiplier) with the play/action response of its round. */
function checkHistory(records: RoundRecord[], exchanges: Exchange[]): Finding[] {
  const check = 'rgs.history';
  const live = new Map<string, RoundRecord>();
  for (const r of records) if (r.source === 'live' && r.settled && !live.has(r.id)) live.set(r.id, r);
  const mismatches = new Map<string, Finding>();
  const compared = new Set<string>();
  let elsewhere = 0;
  for (const x of exchanges.filter((e) => e.method === 'GET' && e.path.endsWith('/game/history'))) {
    for (const entry of Array.isArray(x.body) ? x.body.map(asObject) : []) {
      const id = asString(entry?.['id']);
      const played = id ? live.get(id) : undefined;
      if (!entry || !id || !played) {
        elsewhere++;
        continue;
      }
      compared.add(id);
      const expected = { wager: played.raw.amount, payout: played.raw.payout, multiplier: played.raw.multiplier };
      const found = { wager: entry['wager'], payout: entry['payout'], multiplier: entry['multiplier'] };
      const differ = (Object.keys(expected) as (keyof typeof expected)[]).filter((k) => cents(expected[k]) !== cents(found[k]));
      if (differ.length && !mismatches.has(id))
        mismatches.set(id, { check, status: 'mismatch', subject: id, expected, found, at: refOf(x.res), detail: `round ${id}: history differs from the play in ${differ.join(', ')}` });
    }
  }
  return summarize(check, compared.size, [...mismatches.values()], 'history rounds played in this run', elsewhere ? ` (${elsewhere} listed entries are not rounds played in this run)` : '');
}
