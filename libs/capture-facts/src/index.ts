export * from './captured';
export * from './tasks';
