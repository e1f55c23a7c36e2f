/** What the simulator reports as the gameserver version (welcome, get_version, login release_info). */
export const GAMESERVER_VERSION = '0.327.2';
/** The real release date of v0.327.2 is not in the sources; this is the simulator's choice (docs/simulator/spacemolt.md). */
export const RELEASE_DATE = '2026-05-28';

export function releaseNotes(): string[] {
  return [
    'Rewind simulator of SpaceMolt gameserver v0.327.2: a protocol-faithful stand-in, not the real game.',
    'Implemented: auth, navigation (undock, travel, dock), mining, market sell/buy, refuel, chat, attack and the status queries.',
  ];
}
