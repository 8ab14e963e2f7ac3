export * from './compare';
export * from './history';
export * from './verify';
