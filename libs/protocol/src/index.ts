export * from './subjects';
export * from './errors';
export * from './requests';
