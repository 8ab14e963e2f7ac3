export { loadConfig, ConfigError, type Config } from './config';
export { ServiceUnreachableError, unreachableMessage, redact, type ServiceName } from './services';
