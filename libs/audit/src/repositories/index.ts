export * from './audits.repository';
export * from './run-summaries.repository';
export * from './analytics.repository';
