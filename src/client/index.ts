// The Berth SDK: a typed client for the Docker Engine API that Berth's daemon (or Docker's) serves.
export { connect, Client, splitReference, type ConnectOptions } from './client.js';
export { ProgressStream, followProgress, streamError } from './progress.js';
export {
  Transport, resolveHost, parseHost, encodeFilters, encodeRegistryAuth, daemonErrorInfo, jsonValues, DEFAULT_HOST,
  type Endpoint, type HostSource, type RequestOptions, type DaemonErrorInfo,
} from './transport.js';
export type * from './types.js';
export { BerthError, isBerthError, type ErrorCode } from '../errors/index.js';
