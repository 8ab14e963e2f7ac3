export { loadConfig, ConfigError, type Config } from './config';
export {
  ServiceUnreachableError,
  isUnavailable,
  unreachableMessage,
  redact,
  type ServiceName,
} from './services';
