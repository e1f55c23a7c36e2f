export { EXPORT_FORMAT, PortableError, PortableErrorCode, encodeEventLine } from './format';
export type { ExportedSession, ExportHeader, ExportTrailer, ExportProgress } from './format';
export { exportSession } from './export';
export type { ExportOptions, ExportResult } from './export';
export { importSession, readLines } from './import';
export type { ImportOptions, ImportResult, NumberedLine } from './import';
