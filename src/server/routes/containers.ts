// Container endpoints. Handlers parse, call the engine's container service, write.
import { BerthError, errors, isBerthError } from '../../errors/index.js';
import { atoi, parseTimestamp } from '../../api/query.js';
import type { Ctx } from '../context.js';
import { parseDetachKeys } from '../../util/detach-keys.js';
import { parseSignal } from '../../runtime/runtime.js';
import type { Router } from '../router.js';
import { containerSizes, inspectContainer, listContainers } from '../../engine/containers/view.js';
import type { ContainerService } from '../../engine/containers/service.js';
import { archiveGet, archivePut, archiveStat, changes, commit, exportFs, pruneContainers, statsOnce, top, type StatsSession } from '../../engine/containers/extras.js';

function requirePath(ctx: Ctx): string {
  const p = ctx.q('path');
  // Docker's words, its missing space included.
  if (!p) throw errors.invalid('bad parameter: pathcannot be empty');
  return p;
}

async function stats(ctx: Ctx): Promise<void> {
  const s = svc(ctx);
  const c = s.get(ctx.params.id!);
  const stream = ctx.q('stream') === undefined ? true : ctx.bool('stream');
  const oneShot = ctx.bool('one-shot');
  const session: StatsSession = {};
  if (!stream) {
    // Docker samples twice (1 s apart) so precpu is filled, unless one-shot.
    let v = await statsOnce(s, c, session);
    if (!oneShot && s.isRunning(c)) { await new Promise((r) => setTimeout(r, 1000)); v = await statsOnce(s, c, session); }
    ctx.json(200, v);
    return;
  }
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  let closed = false;
  ctx.res.on('close', () => { closed = true; });
  // As Docker: a sample a second, zeros while the container is not running, until the client
  // leaves or the container is removed.
  while (!closed && s.find(c.Id)) {
    ctx.res.write(JSON.stringify(await statsOnce(s, c, session)) + '\n');
    await new Promise((r) => setTimeout(r, 1000));
  }
  ctx.res.end();
}

function svc(ctx: Ctx): ContainerService {
  const s = (ctx.engine as unknown as { containers?: ContainerService }).containers;
  if (!s) throw new BerthError('ERR_UNAVAILABLE', 'containers are not available in this engine');
  return s;
}

function intQ(ctx: Ctx, name: string): number | undefined {
  const v = ctx.q(name);
  if (v === undefined || v === '') return undefined;
  // Go's strconv.Atoi, as Docker parses these, with its error text; Docker passes that error on
  // untyped, so it is a 500.
  try { return atoi(v); } catch (e) { throw errors.internal((e as Error).message); }
}

/**
 * stop/restart options as Docker reads them: `signal` came with API 1.42 (an older request's is
 * ignored) and a bad one is refused before the container is looked up, then `t`.
 */
function stopOptions(ctx: Ctx): { t?: number; signal?: string } {
  const signal = ctx.apiAtLeast('1.42') ? ctx.q('signal') || undefined : undefined;
  if (signal) parseSignal(signal);
  return { t: intQ(ctx, 't') ?? intQ(ctx, 'timeout'), signal };
}

/**
 * A terminal size (`h`, `w` of resize), read as Docker reads it: an unsigned 32-bit number,
 * required, refused (400) as `invalid resize height "x": invalid syntax` or `…: value out of range`.
 */
export function sizeQ(ctx: Ctx, name: 'h' | 'w'): number {
  const v = ctx.q(name) ?? '';
  const what = `invalid resize ${name === 'h' ? 'height' : 'width'} ${JSON.stringify(v)}`;
  const m = /^(-?)(\d+)$/.exec(v);
  if (!m) throw errors.invalid(`${what}: invalid syntax`);
  const n = Number(m[2]);
  // A negative number is out of range (but "-0" is 0), as is anything past 2^32-1.
  if ((m[1] && n > 0) || n > 0xffffffff) throw errors.invalid(`${what}: value out of range`);
  return n;
}

export function registerContainerRoutes(r: Router): void {
  r.post('/commit', async (ctx) => {
    const body = await ctx.readJson<Record<string, unknown>>();
    const id = await commit(svc(ctx), ctx.q('container') ?? '', {
      repo: ctx.q('repo') || undefined, tag: ctx.q('tag') || undefined, comment: ctx.q('comment') || undefined, author: ctx.q('author') || undefined,
      changes: ctx.query.getAll('changes'), config: body ?? undefined,
      // Docker pauses unless told `pause=false` (an empty or missing value is true).
      pause: ctx.q('pause') ? ctx.bool('pause') : true,
    });
    ctx.json(201, { Id: id });
  });
  r.post('/containers/create', async (ctx) => {
    const body = await ctx.readJson<Record<string, unknown>>();
    ctx.json(201, await svc(ctx).create(body as never, ctx.q('name'), ctx.q('platform') || undefined));
  });
  r.get('/containers/json', async (ctx) => {
    const s = svc(ctx);
    const list = listContainers(s, { all: ctx.bool('all'), limit: intQ(ctx, 'limit'), filters: ctx.filters() });
    if (ctx.bool('size')) {
      for (const e of list) {
        // The list leaves a size of 0 out (omitempty in moby's Summary); inspect shows it.
        const { SizeRw, SizeRootFs } = await containerSizes(s, s.get(e.Id as string));
        Object.assign(e, SizeRw ? { SizeRw } : {}, SizeRootFs ? { SizeRootFs } : {});
      }
    }
    ctx.json(200, list);
  });
  r.post('/containers/prune', async (ctx) => {
    ctx.json(200, await pruneContainers(svc(ctx), ctx.filters()));
  });
  r.get('/containers/{id}/json', async (ctx) => {
    const s = svc(ctx);
    const c = s.get(ctx.params.id!);
    const out = inspectContainer(s, c);
    if (ctx.bool('size')) Object.assign(out, await containerSizes(s, c));
    ctx.json(200, out);
  });
  r.post('/containers/{id}/start', async (ctx) => {
    await svc(ctx).start(ctx.params.id!);
    ctx.noContent();
  });
  r.post('/containers/{id}/stop', async (ctx) => {
    await svc(ctx).stop(ctx.params.id!, stopOptions(ctx));
    ctx.noContent();
  });
  r.post('/containers/{id}/restart', async (ctx) => {
    await svc(ctx).restart(ctx.params.id!, stopOptions(ctx));
    ctx.noContent();
  });
  r.post('/containers/{id}/kill', async (ctx) => {
    await svc(ctx).kill(ctx.params.id!, ctx.q('signal') || 'SIGKILL');
    ctx.noContent();
  });
  r.post('/containers/{id}/pause', async (ctx) => { await svc(ctx).pause(ctx.params.id!); ctx.noContent(); });
  r.post('/containers/{id}/unpause', async (ctx) => { await svc(ctx).unpause(ctx.params.id!); ctx.noContent(); });
  r.post('/containers/{id}/rename', async (ctx) => { await svc(ctx).rename(ctx.params.id!, ctx.q('name') ?? ''); ctx.noContent(); });
  r.post('/containers/{id}/resize', async (ctx) => {
    await svc(ctx).resize(ctx.params.id!, sizeQ(ctx, 'h'), sizeQ(ctx, 'w'));
    ctx.text(200, '');
  });
  r.post('/containers/{id}/wait', wait);
  r.post('/containers/{id}/update', async (ctx) => ctx.json(200, await svc(ctx).update(ctx.params.id!, (await ctx.readJson<Record<string, unknown>>()) ?? {})));
  r.delete('/containers/{id}', async (ctx) => {
    await svc(ctx).remove(ctx.params.id!, { force: ctx.bool('force'), volumes: ctx.bool('v') });
    ctx.noContent();
  });
  r.get('/containers/{id}/logs', logs);
  r.get('/containers/{id}/top', async (ctx) => ctx.json(200, await top(svc(ctx), ctx.params.id!, ctx.q('ps_args') || '-ef')));
  r.get('/containers/{id}/stats', stats);
  r.get('/containers/{id}/changes', async (ctx) => ctx.json(200, await changes(svc(ctx), ctx.params.id!)));
  r.get('/containers/{id}/export', async (ctx) => {
    const s = svc(ctx);
    s.get(ctx.params.id!);
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await exportFs(s, ctx.params.id!, ctx.res);
  });
  r.head('/containers/{id}/archive', async (ctx) => {
    const st = await archiveStat(svc(ctx), ctx.params.id!, requirePath(ctx));
    // Only the stat: Docker's HEAD names no content type (its GET's tar has one).
    ctx.res.writeHead(200, { 'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(st)).toString('base64') });
    ctx.res.end();
  });
  r.get('/containers/{id}/archive', async (ctx) => {
    await archiveGet(svc(ctx), ctx.params.id!, requirePath(ctx), ctx.res, (st) => {
      ctx.res.writeHead(200, { 'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(st)).toString('base64'), 'Content-Type': 'application/x-tar' });
    });
  });
  r.put('/containers/{id}/archive', async (ctx) => {
    await archivePut(svc(ctx), ctx.params.id!, requirePath(ctx), ctx.req, { noOverwriteDirNonDir: ctx.bool('noOverwriteDirNonDir'), copyUIDGID: ctx.bool('copyUIDGID') });
    ctx.noContent(200);
  });
  r.post('/containers/{id}/attach', attach);
}

async function wait(ctx: Ctx): Promise<void> {
  const s = svc(ctx);
  // Register before the headers go out: a start issued right after cannot be missed.
  const result = s.wait(ctx.params.id!, ctx.q('condition'));
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  const r = await result;
  ctx.res.end(JSON.stringify(r) + '\n');
}

/**
 * since/until of logs. Docker reads them as "<seconds>[.<nanoseconds>]" with strconv.ParseInt and
 * passes its error on untyped (500); Berth takes more (RFC 3339, durations) but refuses the rest
 * in Docker's words.
 */
function logsTimestamp(v: string): bigint {
  // (Only a date-like string is given to the date parser, which takes almost anything.)
  const known = /^[+-]?\d+(\.[+-]?\d+)?$|^\d{4}-\d\d-\d\d|^\d+(\.\d+)?(ns|us|ms|s|m|h)$/.test(v.trim());
  try { if (known) return parseTimestamp(v); } catch { /* refused below */ }
  const i = v.indexOf('.');
  const sec = i < 0 ? v : v.slice(0, i);
  const bad = /^[+-]?\d+$/.test(sec) ? v.slice(i + 1) : sec;
  throw errors.internal(`strconv.ParseInt: parsing ${JSON.stringify(bad)}: invalid syntax`);
}

async function logs(ctx: Ctx): Promise<void> {
  const s = svc(ctx);
  // The streams first, as Docker: a request without one is a 400 whatever the container.
  const stdout = ctx.bool('stdout');
  const stderr = ctx.bool('stderr');
  if (!stdout && !stderr) throw errors.invalid('Bad parameters: you must choose at least one stream');
  const c = s.get(ctx.params.id!);
  // Before the 200 goes out: with `--log-driver none` there is nothing to read.
  if (!s.logged(c)) throw errors.notImplemented('configured logging driver does not support reading');
  const tailRaw = ctx.q('tail');
  let tail: number | undefined;
  if (tailRaw !== undefined && /^-?\d+$/.test(tailRaw)) { const n = Number(tailRaw); if (n >= 0) tail = n; }
  const since = ctx.q('since');
  const until = ctx.q('until');
  const opts = {
    stdout, stderr, follow: ctx.bool('follow'), timestamps: ctx.bool('timestamps'), details: ctx.bool('details'), tail,
    sinceNanos: since && since !== '0' ? logsTimestamp(since) : undefined,
    untilNanos: until && until !== '0' ? logsTimestamp(until) : undefined,
  };
  ctx.res.writeHead(200, { 'Content-Type': ctx.streamType(!!c.Config.Tty) });
  ctx.res.flushHeaders();
  const ac = new AbortController();
  ctx.res.on('close', () => ac.abort());
  await s.logs(c.Id, opts, ctx.res, ac.signal);
  ctx.res.end();
}

async function attach(ctx: Ctx): Promise<void> {
  const s = svc(ctx);
  const ref = ctx.params.id!;
  const detachKeys = ctx.q('detachKeys') || undefined;
  let c;
  // Docker's checks in its order, each failing as Docker fails an attach (failHijack): the keys,
  // the container, then a paused or restarting one (which would otherwise wait).
  try {
    if (detachKeys) parseDetachKeys(detachKeys);
    c = s.get(ref);
    if (c.State.Status === 'paused') throw errors.conflict(`container ${ref} is paused, unpause the container before attach`);
    if (c.State.Status === 'restarting') throw errors.conflict(`container ${ref} is restarting, wait until the container is running`);
  } catch (e) {
    if (!isBerthError(e)) throw e;
    ctx.failHijack(e);
    return;
  }
  const sock = ctx.hijack(ctx.streamType(!!c.Config.Tty));
  await s.attach(c.Id, {
    stdin: ctx.bool('stdin'), stdout: ctx.bool('stdout'), stderr: ctx.bool('stderr'), logs: ctx.bool('logs'), stream: ctx.bool('stream'),
    detachKeys,
  }, sock);
}
