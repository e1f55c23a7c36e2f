export * from './evidence-builders';
