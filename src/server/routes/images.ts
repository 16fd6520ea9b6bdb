// Image endpoints. Handlers parse, call the engine, write — nothing else.
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../../errors/index.js';
import type { Ctx } from '../context.js';
import type { Router } from '../router.js';

export function registerImageRoutes(r: Router): void {
  r.get('/images/json', async (ctx) => {
    ctx.json(200, await ctx.engine.listImages({ all: ctx.bool('all'), filters: ctx.filters() }));
  });
  r.post('/images/create', create);
  r.get('/images/get', (ctx) => save(ctx, ctx.query.getAll('names').flatMap((n) => n.split(',')).filter(Boolean)));
  r.post('/images/load', load);
  r.post('/images/prune', async (ctx) => ctx.json(200, await ctx.engine.pruneImages(ctx.filters())));
  r.get('/images/search', () => { throw new BerthError('ERR_NOT_IMPLEMENTED', 'image search is not supported'); });
  r.get('/images/{name:.*}/get', (ctx) => save(ctx, [ctx.params.name!]));
  r.get('/images/{name:.*}/json', (ctx) => ctx.json(200, ctx.engine.inspectImage(ctx.params.name!)));
  r.get('/images/{name:.*}/history', (ctx) => ctx.json(200, ctx.engine.imageHistory(ctx.params.name!)));
  r.post('/images/{name:.*}/tag', async (ctx) => {
    await ctx.engine.tagImage(ctx.params.name!, ctx.q('repo') ?? '', ctx.q('tag') || undefined);
    ctx.noContent(201);
  });
  r.post('/images/{name:.*}/push', push);
  r.delete('/images/{name:.*}', async (ctx) => {
    ctx.json(200, await ctx.engine.removeImage(ctx.params.name!, { force: ctx.bool('force'), noprune: ctx.bool('noprune') }));
  });
  r.get('/distribution/{name:.*}/json', async (ctx) => ctx.json(200, await ctx.engine.distribution(ctx.params.name!, ctx.registryAuth())));
}

async function create(ctx: Ctx): Promise<void> {
  const fromImage = ctx.q('fromImage');
  const fromSrc = ctx.q('fromSrc');
  const p = ctx.progress();
  if (fromImage) {
    try {
      await ctx.engine.pullImage(fromImage, ctx.q('tag') || undefined, { platform: ctx.q('platform') || undefined, auth: ctx.registryAuth(), progress: p.write });
    } catch (e) { p.fail(e); }
    p.end();
    return;
  }
  if (fromSrc) {
    const opts = {
      repo: ctx.q('repo') || undefined, tag: ctx.q('tag') || undefined, changes: ctx.query.getAll('changes'),
      message: ctx.q('message') || undefined, platform: ctx.q('platform') || undefined, source: fromSrc,
    };
    try {
      if (fromSrc === '-') await ctx.engine.importImage(ctx.req, opts, p.write);
      else await ctx.engine.importImageFromUrl(fromSrc, opts, p.write);
    } catch (e) { p.fail(e); }
    p.end();
    return;
  }
  throw new BerthError('ERR_INVALID_ARGUMENT', 'either fromImage or fromSrc is required');
}

async function push(ctx: Ctx): Promise<void> {
  const p = ctx.progress();
  const auth = ctx.registryAuth();
  // Resolve locally before streaming, so a missing image is a plain 404.
  const tag = ctx.q('tag') || undefined;
  const name = ctx.params.name!;
  try {
    await ctx.engine.pushImage(name, tag, { auth, progress: p.write });
  } catch (e) { p.fail(e); }
  p.end();
}

async function save(ctx: Ctx, names: string[]): Promise<void> {
  if (names.length === 0) throw new BerthError('ERR_INVALID_ARGUMENT', 'no images specified');
  const tar = await ctx.engine.saveImages(names);
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await pipeline(tar, ctx.res);
  } catch {
    ctx.res.destroy();
  }
}

async function load(ctx: Ctx): Promise<void> {
  const p = ctx.progress();
  const quiet = ctx.bool('quiet');
  try {
    await ctx.engine.loadImages(ctx.req, (m) => { if (!quiet || m.stream?.startsWith('Loaded')) p.write(m); });
  } catch (e) {
    p.fail(e);
  }
  p.end();
}
