export * from './client';
export { LorekeeperError, isLorekeeperError, type ErrorCode } from '@lorekeeper/domain';
