// Volume endpoints: /volumes (list, inspect, remove, prune, create).
import type { Router } from '../router.js';

export function registerVolumeRoutes(r: Router): void {
  r.get('/volumes', (ctx) => ctx.json(200, ctx.engine.volumes.list(ctx.filters())));
  r.post('/volumes/create', (ctx) => ctx.engine.volumes.create());
  r.post('/volumes/prune', (ctx) => ctx.json(200, ctx.engine.volumes.prune(ctx.filters())));
  r.get('/volumes/{name}', (ctx) => ctx.engine.volumes.inspect(ctx.params.name!));
  r.delete('/volumes/{name}', (ctx) => ctx.engine.volumes.remove(ctx.params.name!));
}
