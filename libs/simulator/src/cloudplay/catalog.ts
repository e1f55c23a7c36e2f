/** The simulated game catalog: slug → title and the starting resource profile (updated by EMA on stop). */
export interface CatalogGame {
  slug: string;
  title: string;
  /** Average CPU cores the container uses while running. */
  cpuCores: number;
  peakMemoryMb: number;
}

export const CLOUDPLAY_GAMES: readonly CatalogGame[] = [
  { slug: 'garden-of-forking-paths', title: 'The Garden of Forking Paths', cpuCores: 0.125, peakMemoryMb: 1024 },
  { slug: 'library-of-babel', title: 'The Library of Babel', cpuCores: 0.2, peakMemoryMb: 1536 },
  { slug: 'tlon-uqbar', title: 'Tlön, Uqbar, Orbis Tertius', cpuCores: 0.1, peakMemoryMb: 768 },
  { slug: 'the-aleph', title: 'The Aleph', cpuCores: 0.3, peakMemoryMb: 2048 },
  { slug: 'lottery-in-babylon', title: 'The Lottery in Babylon', cpuCores: 0.15, peakMemoryMb: 896 },
];

export function findGame(slug: string): CatalogGame | undefined {
  return CLOUDPLAY_GAMES.find((g) => g.slug === slug);
}
