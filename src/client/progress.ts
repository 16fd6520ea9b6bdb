// JSON progress streams (pull, push, load, import): iterate the messages, or await completion.
import { BerthError, codeForStatus, type ErrorCode } from '../errors/index.js';
import type { ProgressMessage } from '../api/progress.js';
import { jsonValues, type DaemonErrorInfo, type Response } from './transport.js';

/** The error a stream reported in-band (errorDetail / error), as a coded BerthError. */
export function streamError(m: ProgressMessage, fallback: ErrorCode = 'ERR_INTERNAL'): BerthError | undefined {
  if (!m.errorDetail && !m.error) return undefined;
  const message = m.errorDetail?.message ?? m.error ?? 'unknown error';
  const status = m.errorDetail?.code;
  const code = typeof status === 'number' && status >= 400 ? codeForStatus(status) : fallback;
  const info: DaemonErrorInfo = { daemon: true, status: typeof status === 'number' ? status : 500, inStream: true };
  return new BerthError(code, message, { cause: info });
}

/**
 * A lazily started progress stream: the request is sent when iteration begins. Iterating yields
 * every message as sent (including an error message); `done()` drains it and throws on an error.
 * Single use.
 */
export class ProgressStream implements AsyncIterable<ProgressMessage> {
  private used = false;
  constructor(
    private readonly open: () => Promise<Response>,
    private readonly errorCode: ErrorCode = 'ERR_INTERNAL',
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<ProgressMessage> {
    if (this.used) throw new BerthError('ERR_INVALID_ARGUMENT', 'progress stream already consumed');
    this.used = true;
    return this.iterate();
  }

  private async *iterate(): AsyncGenerator<ProgressMessage> {
    const res = await this.open();
    try {
      yield* jsonValues<ProgressMessage>(res);
    } finally {
      if (!res.complete) res.destroy();
    }
  }

  /**
   * Wait for the operation to finish. Calls onMessage for each message; throws a BerthError on an
   * in-stream error. Resolves with the messages that are not byte-count updates (status lines, aux).
   */
  async done(onMessage?: (m: ProgressMessage) => void): Promise<ProgressMessage[]> {
    const kept: ProgressMessage[] = [];
    for await (const m of this) {
      onMessage?.(m);
      const err = streamError(m, this.errorCode);
      if (err) throw err;
      const d = m.progressDetail;
      if (!d || (!d.current && !d.total)) kept.push(m);
    }
    return kept;
  }
}

/** Await a progress stream (any AsyncIterable of messages), throwing on an in-stream error. */
export async function followProgress(
  stream: AsyncIterable<ProgressMessage> | Iterable<ProgressMessage>,
  onMessage?: (m: ProgressMessage) => void,
  errorCode: ErrorCode = 'ERR_INTERNAL',
): Promise<ProgressMessage[]> {
  if (stream instanceof ProgressStream) return stream.done(onMessage);
  const kept: ProgressMessage[] = [];
  for await (const m of stream) {
    onMessage?.(m);
    const err = streamError(m, errorCode);
    if (err) throw err;
    kept.push(m);
  }
  return kept;
}
