export { Ingest } from './ingest';
export type { IngestOptions, IngestStats, IngestLogger, RecordInput, OpenSessionOptions } from './types';
