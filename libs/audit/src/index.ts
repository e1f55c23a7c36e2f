export * from './types';
export * from './json';
export * from './common';
export * from './audit';
export * from './load';
export * from './service';
export * from './repositories';
export * from './summary/summarize';
// The platforms' own checks live in their modules (libs/platforms); re-exported for the audit's users.
export { auditCloudplay, auditMoltStation, auditRgs, auditSpaceMolt } from '@rewind/platforms';
