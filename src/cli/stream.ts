// Drive a progress stream to the terminal (or nowhere, for -q) and surface its error.
import type { ProgressStream } from '../client/progress.js';
import type { ProgressMessage } from '../api/progress.js';
import type { Context } from './command.js';
import { ProgressPrinter } from './format/progress.js';

export async function showProgress(ctx: Context, stream: ProgressStream, opts: { quiet?: boolean; onAux?: (aux: unknown) => void } = {}): Promise<ProgressMessage[]> {
  const printer = opts.quiet ? undefined : new ProgressPrinter(ctx.stdout);
  return stream.done((m) => {
    if (m.aux !== undefined) opts.onAux?.(m.aux);
    printer?.push(m);
  });
}
