export * from './types';
export { decide, decideAndFold, captureStopped, safeId, taskId } from './decide';
export { evolve, initialState, refOf, DEFAULT_CONFIG } from './evolve';
export { PMap } from './pmap';
