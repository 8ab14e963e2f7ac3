export * from './http';
export * from './nest-logger';
export * from './nats';
