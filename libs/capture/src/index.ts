export * from './captured';
