export * from './captured';
export * from './redaction';
export * from './ingest';
