export * from './classify';
export * from './encode';
