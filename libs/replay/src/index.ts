export * from './compare';
export * from './history';
export * from './log';
export * from './state';
export * from './diff';
export * from './verify';
