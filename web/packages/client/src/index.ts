// @kiln/client: the typed client of the Kiln REST API — KilnClient, ApiError,
// the resource types (types.ts) and the project wire format (wire.ts).
export { API_PREFIX, KilnClient, interfaceProblem, type BinaryBody, type ClientOptions, type FetchLike } from './client';
export { ApiError, errorFromResponse, type ClientErrorCode } from './errors';
export type * from './types';
export type * from './wire';
