// System endpoints: /_ping, /version, /info, /events, /system/df, /auth, plugins.
import { BerthError } from '../../errors/index.js';
import { parseTimestamp } from '../../api/query.js';
import { API_VERSION } from '../../engine/index.js';
import { matchEvent, type EngineEvent } from '../../engine/events.js';
import type { Ctx } from '../context.js';
import type { Router } from '../router.js';

function pingHeaders(ctx: Ctx): void {
  const r = ctx.res;
  r.setHeader('Api-Version', API_VERSION);
  r.setHeader('Builder-Version', '1');
  r.setHeader('Swarm', 'inactive');
  r.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
  r.setHeader('Pragma', 'no-cache');
}

export function registerSystemRoutes(r: Router): void {
  r.head('/_ping', (ctx) => {
    pingHeaders(ctx);
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 });
    ctx.res.end();
  });
  r.get('/_ping', (ctx) => { pingHeaders(ctx); ctx.text(200, 'OK'); });
  r.get('/version', (ctx) => ctx.json(200, ctx.engine.version()));
  r.get('/info', async (ctx) => ctx.json(200, await ctx.engine.info()));
  r.get('/system/df', async (ctx) => {
    const types = ctx.query.getAll('type');
    const df = await ctx.engine.diskUsage();
    if (types.length > 0) {
      const keep: Record<string, string[]> = { image: ['LayersSize', 'Images'], container: ['Containers'], volume: ['Volumes'], 'build-cache': ['BuildCache'] };
      const out: Record<string, unknown> = {};
      for (const t of types) {
        if (!keep[t]) throw new BerthError('ERR_INVALID_ARGUMENT', `unknown object type: ${t}`);
        for (const k of keep[t]!) out[k] = df[k];
      }
      ctx.json(200, out);
      return;
    }
    ctx.json(200, df);
  });
  r.get('/events', events);
  r.post('/auth', async (ctx) => {
    const body = (await ctx.readJson<Record<string, string>>()) ?? {};
    ctx.json(200, await ctx.engine.auth({
      username: body.username ?? body.Username, password: body.password ?? body.Password,
      serveraddress: body.serveraddress ?? body.ServerAddress, identitytoken: body.identitytoken ?? body.IdentityToken,
    }));
  });
  r.get('/plugins/{name:.*}/json', (ctx) => {
    throw new BerthError('ERR_NOT_FOUND', `plugin "${ctx.params.name}" not found`);
  });
  r.get('/plugins', (ctx) => ctx.json(200, []));
}

async function events(ctx: Ctx): Promise<void> {
  const f = ctx.filters();
  const now = BigInt(Date.now()) * 1_000_000n;
  const since = ctx.q('since') ? parseTimestamp(ctx.q('since')!) : undefined;
  const until = ctx.q('until') ? parseTimestamp(ctx.q('until')!) : undefined;
  if (since !== undefined && until !== undefined && until < since) {
    throw new BerthError('ERR_INVALID_ARGUMENT', `\`since\` time (${ctx.q('since')}) cannot be after \`until\` time (${ctx.q('until')})`);
  }
  const res = ctx.res;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  const send = (e: EngineEvent) => { if (matchEvent(e, f)) res.write(JSON.stringify(e) + '\n'); };
  const bus = ctx.engine.events;
  const buffered: EngineEvent[] = [];
  let live = false;
  // Subscribe before replaying history so nothing falls between the two.
  const unsub = bus.subscribe((e) => {
    if (until !== undefined && BigInt(e.timeNano) > until) return;
    if (live) send(e); else buffered.push(e);
  });
  if (since !== undefined) {
    for (const e of bus.since(since, until)) if (!buffered.includes(e)) send(e);
  }
  for (const e of buffered) send(e);
  live = true;
  if (until !== undefined && until <= now) { unsub(); res.end(); return; }
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => { unsub(); if (timer) clearTimeout(timer); resolve(); };
    if (until !== undefined) timer = setTimeout(() => { done(); res.end(); }, Number((until - now) / 1_000_000n) + 1);
    res.on('close', done);
    ctx.req.on('close', () => { if (!res.writableEnded && ctx.req.destroyed) done(); });
  });
}
