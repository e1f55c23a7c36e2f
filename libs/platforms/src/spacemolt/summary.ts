import { asNumber, asObject, jsonObject } from '../evidence/json';
import { timeline, type Platformed } from '../evidence/read';
import type { EvidenceStream } from '../evidence/types';

/** SpaceMolt: the player's credits as seen in platform messages (`player.credits` at the top, in `payload`, `structuredContent` or `result`). */
export function summarizeSpaceMolt(recorder: readonly EvidenceStream[]): Platformed {
  const seen: number[] = [];
  for (const { e } of timeline(recorder)) {
    if (e.direction !== 'platform_to_client') continue;
    const body = jsonObject(e);
    if (!body) continue;
    for (const holder of [body, asObject(body['payload']), asObject(body['structuredContent']), asObject(body['result'])]) {
      const credits = asNumber(asObject(holder?.['player'])?.['credits']);
      if (credits !== undefined) {
        seen.push(credits);
        break;
      }
    }
  }
  const start = seen[0] ?? null;
  const end = seen[seen.length - 1] ?? null;
  return { score: null, livesLost: null, extra: { creditsStart: start, creditsEnd: end, creditsEarned: start !== null && end !== null ? end - start : null } };
}
