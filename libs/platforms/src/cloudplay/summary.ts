import { asNumber, jsonObject } from '../evidence/json';
import { pathOf, timeline, type Platformed, type Timed } from '../evidence/read';
import type { EvidenceStream } from '../evidence/types';

/** Cloud play: the figures of the last stop response (`/api/game/stop`) the proxy recorded. */
export function summarizeCloudplay(recorder: readonly EvidenceStream[]): Platformed {
  const extra: Record<string, number | null> = { reportedDurationS: null, cpuSeconds: null, peakMemoryMb: null };
  const responses = timeline(recorder.filter((s) => s.role === 'proxy')).filter(
    ({ e }) => e.kind === 'response' && e.direction === 'platform_to_client' && (pathOf(e)?.endsWith('/game/stop') ?? false),
  );
  for (let i = responses.length - 1; i >= 0; i--) {
    const body = jsonObject((responses[i] as Timed).e);
    if (!body) continue;
    const figures = { reportedDurationS: asNumber(body['duration']), cpuSeconds: asNumber(body['cpuSeconds']), peakMemoryMb: asNumber(body['peakMemoryMb']) };
    if (Object.values(figures).every((v) => v === undefined)) continue;
    for (const [k, v] of Object.entries(figures)) extra[k] = v ?? null;
    break;
  }
  return { score: null, livesLost: null, extra };
}
