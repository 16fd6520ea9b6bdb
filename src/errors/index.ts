// The one error type of Berth. Every failure that crosses a module boundary is a BerthError with
// a stable code; the HTTP status and Docker's wording are decided here and nowhere else.

export type ErrorKind =
  | 'not-found'
  | 'invalid-argument'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'not-modified'
  | 'not-implemented'
  | 'unavailable'
  | 'internal'
  | 'method-not-allowed'
  | 'payload-too-large'
  | 'range-not-satisfiable'
  | 'too-many-requests'
  | 'insufficient-storage';

const KIND_STATUS: Record<ErrorKind, number> = {
  'not-found': 404,
  'invalid-argument': 400,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  'not-modified': 304,
  'not-implemented': 501,
  unavailable: 503,
  internal: 500,
  'method-not-allowed': 405,
  'payload-too-large': 413,
  'range-not-satisfiable': 416,
  'too-many-requests': 429,
  'insufficient-storage': 507,
};

/** Stable error codes, checked by code (never by instanceof or message). */
export const CODES = {
  ERR_NO_SUCH_IMAGE: 'not-found',
  ERR_NO_SUCH_CONTAINER: 'not-found',
  ERR_NO_SUCH_EXEC: 'not-found',
  ERR_NO_SUCH_NETWORK: 'not-found',
  ERR_NO_SUCH_VOLUME: 'not-found',
  ERR_NOT_FOUND: 'not-found',
  ERR_PAGE_NOT_FOUND: 'not-found',
  ERR_INVALID_ARGUMENT: 'invalid-argument',
  ERR_INVALID_REFERENCE: 'invalid-argument',
  ERR_INVALID_DIGEST: 'invalid-argument',
  ERR_BAD_API_VERSION: 'invalid-argument',
  ERR_UNSUPPORTED_MEDIA_TYPE: 'invalid-argument',
  ERR_BAD_ARCHIVE: 'invalid-argument', // a layer/archive tar the extractor refused
  ERR_CONFLICT: 'conflict',
  ERR_NAME_IN_USE: 'conflict',
  ERR_IMAGE_IN_USE: 'conflict',
  ERR_CONTAINER_RUNNING: 'conflict',
  ERR_UNAUTHORIZED: 'unauthorized',
  ERR_FORBIDDEN: 'forbidden',
  ERR_NOT_MODIFIED: 'not-modified',
  ERR_NOT_IMPLEMENTED: 'not-implemented',
  ERR_UNAVAILABLE: 'unavailable',
  ERR_REGISTRY: 'internal',
  ERR_DIGEST_MISMATCH: 'internal',
  ERR_INTERNAL: 'internal',
  // Registry server (OCI distribution error codes; see src/registry/server/errors.ts)
  ERR_REG_BLOB_UNKNOWN: 'not-found',
  ERR_REG_BLOB_UPLOAD_INVALID: 'invalid-argument',
  ERR_REG_BLOB_UPLOAD_UNKNOWN: 'not-found',
  ERR_REG_MANIFEST_BLOB_UNKNOWN: 'invalid-argument',
  ERR_REG_MANIFEST_INVALID: 'invalid-argument',
  ERR_REG_MANIFEST_UNKNOWN: 'not-found',
  ERR_REG_NAME_INVALID: 'invalid-argument',
  ERR_REG_NAME_UNKNOWN: 'not-found',
  ERR_REG_SIZE_INVALID: 'invalid-argument',
  ERR_REG_UNSUPPORTED: 'method-not-allowed',
  ERR_REG_TOO_LARGE: 'payload-too-large',
  ERR_REG_RANGE: 'range-not-satisfiable',
  ERR_REG_TOOMANYREQUESTS: 'too-many-requests',
  ERR_NO_SPACE: 'insufficient-storage',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof CODES;

export class BerthError extends Error {
  readonly code: ErrorCode;
  override readonly cause?: unknown;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'BerthError';
    this.code = code;
    this.cause = options?.cause;
  }
  get kind(): ErrorKind {
    return CODES[this.code];
  }
  get status(): number {
    return KIND_STATUS[CODES[this.code]];
  }
}

export function isBerthError(e: unknown, code?: ErrorCode): e is BerthError {
  return (
    typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'BerthError' &&
    typeof (e as { code?: unknown }).code === 'string' && (code === undefined || (e as BerthError).code === code)
  );
}

/** HTTP status for any thrown value (500 for foreign errors). */
export function statusOf(e: unknown): number {
  return isBerthError(e) ? e.status : 500;
}

/** Map an HTTP status (as received by a client) back to a code. */
export function codeForStatus(status: number): ErrorCode {
  return STATUS_CODE.get(status) ?? 'ERR_INTERNAL';
}

// Reverse of the table above: the first code listed for each status is its generic one.
const STATUS_CODE = new Map<number, ErrorCode>();
for (const [code, kind] of Object.entries(CODES) as [ErrorCode, ErrorKind][]) {
  const st = KIND_STATUS[kind];
  if (!STATUS_CODE.has(st)) STATUS_CODE.set(st, code);
}
STATUS_CODE.set(404, 'ERR_NOT_FOUND');
STATUS_CODE.set(400, 'ERR_INVALID_ARGUMENT');
STATUS_CODE.set(409, 'ERR_CONFLICT');

// Constructors carrying Docker's exact wording (clients match on these texts).
export const errors = {
  noSuchImage: (ref: string) => new BerthError('ERR_NO_SUCH_IMAGE', `No such image: ${ref}`),
  noSuchContainer: (id: string) => new BerthError('ERR_NO_SUCH_CONTAINER', `No such container: ${id}`),
  noSuchExec: (id: string) => new BerthError('ERR_NO_SUCH_EXEC', `No such exec instance: ${id}`),
  noSuchNetwork: (ref: string) => new BerthError('ERR_NO_SUCH_NETWORK', `network ${ref} not found`),
  invalid: (msg: string) => new BerthError('ERR_INVALID_ARGUMENT', msg),
  conflict: (msg: string) => new BerthError('ERR_CONFLICT', msg),
  forbidden: (msg: string) => new BerthError('ERR_FORBIDDEN', msg),
  notFound: (msg: string) => new BerthError('ERR_NOT_FOUND', msg),
  notImplemented: (msg: string) => new BerthError('ERR_NOT_IMPLEMENTED', msg),
  internal: (msg: string, cause?: unknown) => new BerthError('ERR_INTERNAL', msg, { cause }),
};
