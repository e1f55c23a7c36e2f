export * from './recorder';
export * from './encoder';
