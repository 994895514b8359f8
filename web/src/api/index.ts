// The Kiln REST client package: KilnClient, ApiError and resource types.
export { API_PREFIX, KilnClient, type ClientOptions, type FetchLike } from './client';
export { ApiError, errorFromResponse, type ClientErrorCode } from './errors';
export type * from './types';
