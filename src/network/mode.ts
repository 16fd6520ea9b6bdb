// HostConfig.NetworkMode → what the engine must do with namespaces.
import { BerthError, errors } from '../errors/index.js';

export type NetworkMode =
  | { kind: 'bridge' }                       // new netns, attach() to the default bridge
  | { kind: 'none' }                         // new netns with loopback only
  | { kind: 'host' }                         // no network namespace: omit it from the OCI spec
  | { kind: 'container'; container: string } // join that container's netns (caller resolves its path)

export function parseNetworkMode(mode: string | undefined | null): NetworkMode {
  const m = mode ?? '';
  if (m === '' || m === 'default' || m === 'bridge') return { kind: 'bridge' };
  if (m === 'none') return { kind: 'none' };
  if (m === 'host') return { kind: 'host' };
  if (m.startsWith('container:')) {
    const container = m.slice('container:'.length);
    if (!container) throw errors.invalid('invalid container format container:<name|id>');
    return { kind: 'container', container };
  }
  throw new BerthError('ERR_NO_SUCH_NETWORK', `network ${m} not found`);
}
