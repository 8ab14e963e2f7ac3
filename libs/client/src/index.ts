export * from './client';
export { RequestFailure, type RequestFailureReason, Requests } from './requests';
export { LorekeeperError, isLorekeeperError, type ErrorCode } from '@lorekeeper/domain';
