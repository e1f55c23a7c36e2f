export * from './captured';
export * from './redaction';
export * from './ingest';
export * from './proxy';
export * from './pipeline';
export * from './tasks';
export * from './recorder';
