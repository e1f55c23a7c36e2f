export * from './types';
export { decide, decideAndFold, captureStopped, safeId, taskId } from './decide';
export { evolve, evolveOwned, initialState, refOf, DEFAULT_CONFIG } from './evolve';
export { PMap } from './pmap';
