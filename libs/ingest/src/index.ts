export { Ingest } from './ingest';
export type { IngestOptions, IngestStats, IngestLogger, RecordInput, OpenSessionOptions } from './types';
export { WriterThread } from './writer-thread';
export type { BatchWriter, WriterThreadOptions } from './writer-thread';
export { WriteAheadLog } from './write-ahead';
