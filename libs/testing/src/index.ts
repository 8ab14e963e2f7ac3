export * from './services';
export * from './campaigns';
export * from './database';
export * from './given';
export * from './world-fixtures';
export * from './processes';
export * from './system';
export * from './postgres-server';
