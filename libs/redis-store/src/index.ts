export * from './keys';
export * from './tokens';
export * from './connection';
export * from './functions';
export * from './session';
export * from './entities';
export * from './append';
export * from './stream';
