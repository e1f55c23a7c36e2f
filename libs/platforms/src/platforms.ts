/**
 * The platforms Rewind records. The recorder, the pipeline and the audit key their per-platform behaviour on
 * this list (through the registry, `platformOf`); the simulator simulates the same four (it imports the list
 * from here, never the other way round: product code does not depend on the simulator).
 */
export const SIMULATED_PLATFORMS = ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] as const;
export type SimulatedPlatform = (typeof SIMULATED_PLATFORMS)[number];

/** The platform ids (the event log's `platform` enum mirrors them). */
export const PLATFORM_IDS = SIMULATED_PLATFORMS;
export type PlatformId = SimulatedPlatform;

/** The capture tasks a run may get besides the proxy's stream: MoltStation's spectator, the cloud-play and RGS pollers. */
export type CaptureTaskKind = 'moltstation-spectate' | 'cloudplay-poll' | 'rgs-poll';
