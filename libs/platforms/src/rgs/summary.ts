import { asObject, asString, jsonObject } from '../evidence/json';
import { cents, pathOf, timeline, type Platformed } from '../evidence/read';
import type { EvidenceStream } from '../evidence/types';

/** RGS: rounds settled in the proxy's /game/play and /game/action responses (round.active false), once per round id. */
export function summarizeRgs(recorder: readonly EvidenceStream[]): Platformed {
  const settled = new Map<string, { wager: number; payout: number }>();
  for (const { e } of timeline(recorder.filter((s) => s.role === 'proxy'))) {
    if (e.kind !== 'response' || e.direction !== 'platform_to_client') continue;
    const path = pathOf(e);
    if (!path || !(path.endsWith('/game/play') || path.endsWith('/game/action'))) continue;
    const round = asObject(jsonObject(e)?.['round']);
    if (!round || round['active'] !== false) continue;
    const wager = cents(round['amount']);
    const payout = cents(round['payout']);
    if (wager === undefined || payout === undefined) continue;
    settled.set(asString(round['id']) ?? `${e.sessionId}:${e.seq}`, { wager, payout });
  }
  let wageredCents = 0;
  let paidOutCents = 0;
  for (const r of settled.values()) {
    wageredCents += r.wager;
    paidOutCents += r.payout;
  }
  return { score: null, livesLost: null, extra: { rounds: settled.size, wageredCents, paidOutCents } };
}
