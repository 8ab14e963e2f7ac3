export { loadConfig, ConfigError, type Config } from './config';
export { natsAuthFrom, withoutCredentials, type NatsAuth } from './nats-auth';
export {
  ServiceUnreachableError,
  isUnavailable,
  unreachableMessage,
  redact,
  type ServiceName,
} from './services';
export { MALLOC_TUNABLES, withMallocTunables } from './process-env';
