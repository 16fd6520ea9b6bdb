// Mapping of BerthError codes onto the distribution spec's JSON error body.
import type { ServerResponse } from 'node:http';
import { BerthError, isBerthError, type ErrorCode } from '../../errors/index.js';

const OCI_CODE: Partial<Record<ErrorCode, string>> = {
  ERR_REG_BLOB_UNKNOWN: 'BLOB_UNKNOWN',
  ERR_REG_BLOB_UPLOAD_INVALID: 'BLOB_UPLOAD_INVALID',
  ERR_REG_BLOB_UPLOAD_UNKNOWN: 'BLOB_UPLOAD_UNKNOWN',
  ERR_INVALID_DIGEST: 'DIGEST_INVALID',
  ERR_DIGEST_MISMATCH: 'DIGEST_INVALID',
  ERR_REG_MANIFEST_BLOB_UNKNOWN: 'MANIFEST_BLOB_UNKNOWN',
  ERR_REG_MANIFEST_INVALID: 'MANIFEST_INVALID',
  ERR_REG_MANIFEST_UNKNOWN: 'MANIFEST_UNKNOWN',
  ERR_REG_NAME_INVALID: 'NAME_INVALID',
  ERR_REG_NAME_UNKNOWN: 'NAME_UNKNOWN',
  ERR_REG_SIZE_INVALID: 'SIZE_INVALID',
  ERR_REG_TOO_LARGE: 'SIZE_INVALID',
  ERR_REG_RANGE: 'BLOB_UPLOAD_INVALID',
  ERR_UNAUTHORIZED: 'UNAUTHORIZED',
  ERR_FORBIDDEN: 'DENIED',
  ERR_REG_UNSUPPORTED: 'UNSUPPORTED',
  ERR_REG_TOOMANYREQUESTS: 'TOOMANYREQUESTS',
  ERR_NO_SPACE: 'BLOB_UPLOAD_INVALID',
  ERR_INVALID_ARGUMENT: 'UNSUPPORTED',
};

export function regError(code: ErrorCode, message: string, cause?: unknown): BerthError {
  return new BerthError(code, message, { cause });
}

/** Translate filesystem failures that clients should see clearly (full disk) into BerthErrors. */
export function fromFsError(e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return regError('ERR_NO_SPACE', 'no space left on device', e);
  return e;
}

export function sendError(res: ServerResponse, e: unknown, extraHeaders?: Record<string, string>): number {
  e = fromFsError(e);
  let status = 500;
  let code = 'UNKNOWN';
  let message = 'internal error';
  if (isBerthError(e)) {
    status = e.status;
    code = OCI_CODE[e.code] ?? (status >= 500 ? 'UNKNOWN' : 'UNSUPPORTED');
    message = e.message;
  }
  if (res.headersSent) { res.destroy(); return status; }
  const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
  // Lingering close: Node would close right after this response when the body is unread, and the
  // client, still writing, would get a reset instead of the answer. drain() closes it later.
  if (res.req && !res.req.complete) res.shouldKeepAlive = true;
  res.writeHead(status, {
    ...(status === 429 ? { 'Retry-After': '60' } : {}),
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Docker-Distribution-API-Version': 'registry/2.0',
    ...extraHeaders,
  });
  res.end(body);
  return status;
}
