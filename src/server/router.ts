// A tiny router: routes are "METHOD /path/{param}" with {name:.*} for greedy parameters (image
// names contain slashes and colons). First match in registration order wins.
import type { Ctx } from './context.js';

export type Handler = (ctx: Ctx) => Promise<void> | void;

interface Route { method: string; re: RegExp; keys: string[]; handler: Handler }

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    const keys: string[] = [];
    const re = pattern.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)(:\\\.\*)?\}/g, (_m, k: string, greedy?: string) => {
      keys.push(k);
      return greedy ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method: method.toUpperCase(), re: new RegExp(`^${re}$`), keys, handler });
    return this;
  }

  get(p: string, h: Handler): this { return this.add('GET', p, h); }
  post(p: string, h: Handler): this { return this.add('POST', p, h); }
  put(p: string, h: Handler): this { return this.add('PUT', p, h); }
  delete(p: string, h: Handler): this { return this.add('DELETE', p, h); }
  head(p: string, h: Handler): this { return this.add('HEAD', p, h); }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    const m = method.toUpperCase();
    for (const r of this.routes) {
      if (r.method !== m && !(m === 'HEAD' && r.method === 'GET' && !this.routes.some((x) => x.method === 'HEAD' && x.re.test(path)))) continue;
      const hit = r.re.exec(path);
      if (!hit) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => { params[k] = decodeURIComponent(hit[i + 1]!); });
      return { handler: r.handler, params };
    }
    return undefined;
  }
}
