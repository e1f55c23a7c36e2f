export * from './attribution';
export * from './recorder';
