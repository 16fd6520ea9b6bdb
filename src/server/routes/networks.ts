// Network endpoints: /networks (list, inspect, remove, prune) over the built-in networks.
import { errors } from '../../errors/index.js';
import type { Router } from '../router.js';

export function registerNetworkRoutes(r: Router): void {
  r.get('/networks', (ctx) => ctx.json(200, ctx.engine.networks.list(ctx.filters())));
  r.post('/networks/prune', (ctx) => ctx.json(200, ctx.engine.networks.prune(ctx.filters())));
  // User-defined networks are a later step; say so rather than answer "page not found".
  r.post('/networks/create', () => { throw errors.notImplemented('user-defined networks are not supported yet: containers can use the built-in networks bridge, host and none'); });
  r.post('/networks/{id}/connect', () => { throw errors.notImplemented('connecting a running container to a network is not supported yet'); });
  r.post('/networks/{id}/disconnect', () => { throw errors.notImplemented('disconnecting a container from a network is not supported yet'); });
  r.get('/networks/{id}', (ctx) => ctx.json(200, ctx.engine.networks.inspect(ctx.params.id!)));
  r.delete('/networks/{id}', (ctx) => ctx.engine.networks.remove(ctx.params.id!));
}
