/**
 * The platforms Rewind records. The recorder, the pipeline and the audit key their per-platform behaviour on
 * this list; the simulator simulates the same four (it imports the list from here, never the other way round:
 * product code does not depend on the simulator).
 */
export const SIMULATED_PLATFORMS = ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] as const;
export type SimulatedPlatform = (typeof SIMULATED_PLATFORMS)[number];
