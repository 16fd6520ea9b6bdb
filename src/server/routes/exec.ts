// Exec endpoints: create, start (hijacked unless Detach), inspect, resize.
import { BerthError, errors } from '../../errors/index.js';
import type { Ctx } from '../context.js';
import type { Router } from '../router.js';
import { alreadyStarted, type ExecService, type ExecConfig } from '../../engine/exec/service.js';
import { sizeQ } from './containers.js';

function svc(ctx: Ctx): ExecService {
  const s = (ctx.engine as unknown as { execs?: ExecService }).execs;
  if (!s) throw new BerthError('ERR_UNAVAILABLE', 'exec is not available in this engine');
  return s;
}

interface StartBody { Detach?: boolean; Tty?: boolean; ConsoleSize?: number[] | null }

/**
 * On an Upgrade request node leaves the body in the socket (its first bytes in `head`): take
 * Content-Length bytes off as the JSON body so they do not reach the process's stdin.
 */
export async function upgradeBody<T>(ctx: Ctx): Promise<T | undefined> {
  const up = ctx.upgrade!;
  const n = Number(ctx.req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(n) || n <= 0) return undefined;
  if (n > 1 << 20) throw errors.invalid('request body too large');
  let head = up.head;
  while (head.length < n) {
    const chunk = await new Promise<Buffer | undefined>((resolve) => {
      const onData = (d: Buffer) => { cleanup(); up.socket.pause(); resolve(d); };
      const onEnd = () => { cleanup(); resolve(undefined); };
      const cleanup = () => { up.socket.off('data', onData); up.socket.off('end', onEnd); up.socket.off('close', onEnd); };
      up.socket.on('data', onData); up.socket.once('end', onEnd); up.socket.once('close', onEnd);
      up.socket.resume();
    });
    if (!chunk) break;
    head = Buffer.concat([head, chunk]);
  }
  up.head = head.subarray(n);
  const text = head.subarray(0, n).toString('utf8');
  if (!text.trim()) return undefined;
  try { return JSON.parse(text) as T; } catch (e) { throw errors.invalid(`invalid JSON: ${(e as Error).message}`); }
}

export function registerExecRoutes(r: Router): void {
  r.post('/containers/{id}/exec', async (ctx) => {
    const body = await ctx.readJson<ExecConfig>();
    ctx.json(201, svc(ctx).create(ctx.params.id!, body ?? {}));
  });
  r.post('/exec/{id}/start', async (ctx) => {
    const s = svc(ctx);
    const body = (ctx.upgrade ? await upgradeBody<StartBody>(ctx) : await ctx.readJson<StartBody>()) ?? {};
    const e = s.get(ctx.params.id!);
    if (body.Detach) {
      await s.start(e.id, { detach: true, tty: body.Tty, consoleSize: body.ConsoleSize });
      ctx.noContent(200);
      return;
    }
    const tty = body.Tty ?? !!e.config.Tty;
    if (e.started) throw alreadyStarted(e.id, e.running);
    const sock = ctx.hijack(ctx.streamType(tty));
    try {
      await s.start(e.id, { detach: false, tty, consoleSize: body.ConsoleSize }, sock);
    } finally {
      if (!sock.destroyed) sock.end();
    }
  });
  r.get('/exec/{id}/json', (ctx) => ctx.json(200, svc(ctx).inspect(ctx.params.id!)));
  r.post('/exec/{id}/resize', async (ctx) => {
    await svc(ctx).resize(ctx.params.id!, sizeQ(ctx, 'h'), sizeQ(ctx, 'w'));
    ctx.text(200, '');
  });
}
