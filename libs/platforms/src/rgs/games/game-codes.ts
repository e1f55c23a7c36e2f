/**
 * Game codes are `{slug}-{rtpSuffix}` (e.g. dice-alpha). The RGS document refers to a "Game Codes & RTP"
 * table we do not have; the simulator's table is documented in docs/simulator/rgs.md. `alpha` = 95 % RTP
 * reproduces the document's own Mines example (3 mines, one safe tile → "1.08").
 */
export const GAME_SLUGS = ['dice', 'mines'] as const;
export type GameSlug = (typeof GAME_SLUGS)[number];

/** RTP in basis points per suffix. */
export const RTP_SUFFIXES: Record<string, number> = { alpha: 9500, beta: 9700, gamma: 9900 };

export interface GameCode {
  code: string;
  slug: GameSlug;
  rtpBp: number;
}

export function parseGameCode(code: unknown): GameCode | undefined {
  if (typeof code !== 'string') return undefined;
  const m = /^([a-z]+)-([a-z]+)$/.exec(code);
  if (!m) return undefined;
  const slug = m[1] as string;
  const rtpBp = RTP_SUFFIXES[m[2] as string];
  if (!(GAME_SLUGS as readonly string[]).includes(slug) || rtpBp === undefined) return undefined;
  return { code, slug: slug as GameSlug, rtpBp };
}
