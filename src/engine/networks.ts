// The networks API over the three built-in networks (bridge, host, none), in Docker's shapes:
// list with Docker's filters, inspect by name, ID or ID prefix, and the refusals Docker gives for
// removing a pre-defined network. User-defined networks (create, connect) come with their own issue.
import { errors } from '../errors/index.js';
import { matchLabels, validateFilters, type Filters } from '../api/query.js';
import type { BuiltinNetwork } from '../network/index.js';
import type { ContainerService } from './containers/service.js';

export type NetworkResource = Record<string, unknown>;

const FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'] as const;

export class NetworkService {
  constructor(private readonly containers: ContainerService) {}

  private builtins(): BuiltinNetwork[] {
    return this.containers.network?.networks() ?? [];
  }

  /** GET /networks: Docker leaves Containers empty in the list (inspect fills it). */
  list(f: Filters): NetworkResource[] {
    validateFilters(f, FILTERS);
    for (const v of f.get('dangling') ?? []) {
      if (!['true', '1', 'false', '0'].includes(v)) throw errors.invalid(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
    }
    for (const v of f.get('type') ?? []) if (v !== 'builtin' && v !== 'custom') throw errors.invalid(`invalid filter: 'type'='${v}'`);
    const any = (k: string, pred: (v: string) => boolean) => !f.get(k)?.size || [...f.get(k)!].some(pred);
    return this.builtins()
      .filter((n) => any('name', (v) => regex(v).test(n.name))
        && any('id', (v) => regex(v).test(n.id))
        && any('driver', (v) => v === n.driver)
        && any('scope', (v) => v === 'local')
        && any('type', (v) => v === 'builtin')
        // Built-in networks are never dangling (Docker keeps them out of prune too).
        && any('dangling', (v) => v === 'false' || v === '0')
        && matchLabels(f.get('label'), {}))
      .map((n) => this.resource(n, false));
  }

  /** GET /networks/{id}: an exact name, a full ID, or an unambiguous ID prefix. */
  inspect(ref: string): NetworkResource {
    return this.resource(this.get(ref), true);
  }

  /** DELETE /networks/{id}: the built-in networks cannot be removed. */
  remove(ref: string): never {
    const n = this.get(ref);
    throw errors.forbidden(`${n.name} is a pre-defined network and cannot be removed`);
  }

  /** POST /networks/prune: only user-defined networks are pruned, and there are none. */
  prune(f: Filters): { NetworksDeleted: string[] | null } {
    validateFilters(f, ['label', 'label!', 'until']);
    return { NetworksDeleted: null };
  }

  private get(ref: string): BuiltinNetwork {
    const all = this.builtins();
    const hit = all.find((n) => n.name === ref || n.id === ref);
    if (hit) return hit;
    if (/^[0-9a-f]+$/.test(ref)) {
      const byPrefix = all.filter((n) => n.id.startsWith(ref));
      if (byPrefix.length === 1) return byPrefix[0]!;
      if (byPrefix.length > 1) throw errors.invalid(`network ${ref} is ambiguous (${byPrefix.length} matches found on id)`);
    }
    throw errors.noSuchNetwork(ref);
  }

  private resource(n: BuiltinNetwork, withContainers: boolean): NetworkResource {
    const containers: Record<string, unknown> = {};
    if (withContainers) {
      for (const [id, e] of Object.entries(n.containers)) {
        containers[id] = {
          Name: this.containers.find(id)?.Name ?? '', EndpointID: e.endpointId, MacAddress: e.macAddress,
          IPv4Address: `${e.ipAddress}/${e.prefixLen}`, IPv6Address: '',
        };
      }
    }
    const bridge = n.driver === 'bridge';
    return {
      Name: n.name, Id: n.id, Created: n.created, Scope: 'local', Driver: n.driver,
      EnableIPv4: true, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: bridge && n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway }] : [] },
      Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
      Containers: containers,
      Options: bridge ? {
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        'com.docker.network.bridge.name': n.bridge ?? '',
        'com.docker.network.driver.mtu': String(n.mtu ?? 1500),
      } : {},
      Labels: {},
    };
  }
}

/** Docker matches the name and id filters as regular expressions; a bad one matches nothing. */
function regex(v: string): RegExp {
  try { return new RegExp(v); } catch { return /(?!)/; }
}
