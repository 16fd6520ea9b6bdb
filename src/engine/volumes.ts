// The volumes API while Berth has no named volumes (they come with their own issue): the list is
// empty, a name is "no such volume" in Docker's words, prune removes nothing, create says why not.
import { BerthError, errors } from '../errors/index.js';
import { validateFilters, type Filters } from '../api/query.js';

export class VolumeService {
  list(f: Filters): { Volumes: unknown[]; Warnings: null } {
    validateFilters(f, ['dangling', 'driver', 'label', 'name']);
    return { Volumes: [], Warnings: null };
  }

  inspect(name: string): never { throw noSuchVolume(name); }

  remove(name: string): never { throw noSuchVolume(name); }

  prune(f: Filters): { VolumesDeleted: null; SpaceReclaimed: number } {
    validateFilters(f, ['all', 'label', 'label!']);
    return { VolumesDeleted: null, SpaceReclaimed: 0 };
  }

  create(): never {
    throw errors.notImplemented('named volumes are not supported yet: use bind mounts (-v /host/path:/path) or --tmpfs');
  }
}

function noSuchVolume(name: string): BerthError {
  return new BerthError('ERR_NO_SUCH_VOLUME', `get ${name}: no such volume`);
}
