// berth commit, diff and update: a container's changes as an image or a list, and its limits.
import { RESOURCE_FLAGS, nanoCpus } from '../resource-flags.js';
import type { FlagSpec } from '../args.js';
import { splitReference } from '../../client/client.js';
import { parseReference } from '../../oci/reference.js';
import type { ContainerUpdate } from '../../client/types.js';
import { isBerthError } from '../../errors/index.js';
import { cliError, type FlagValues } from '../args.js';
import { parseSize } from '../../util/size.js';
import { parseRestartPolicy } from '../restart-policy.js';
import { flag, type Command } from '../command.js';

export const commit: Command = {
  usage: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  description: "Create a new image from a container's changes",
  minArgs: 1,
  maxArgs: 2,
  flags: [
    { long: 'author', short: 'a', type: 'string', valueName: 'string', description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { long: 'change', short: 'c', type: 'list', valueName: 'list', description: 'Apply Dockerfile instruction to the created image' },
    { long: 'message', short: 'm', type: 'string', valueName: 'string', description: 'Commit message' },
    { long: 'pause', short: 'p', type: 'bool', description: 'Pause container during commit', default: true },
  ],
  async run(ctx, args, f) {
    let repo: string | undefined;
    let tag: string | undefined;
    if (args[1]) {
      // Checked here, as the docker CLI does, before the daemon is asked (its words, no prefix).
      try { parseReference(args[1]); } catch (e) { throw cliError((e as Error).message); }
      const r = splitReference(args[1]);
      if (r.digest) throw cliError('refusing to create a tag with a digest reference');
      repo = r.name;
      tag = r.tag;
    }
    const client = await ctx.client();
    const { Id } = await client.commit(args[0]!, {
      repo, tag, author: flag.str(f, 'author'), comment: flag.str(f, 'message'), changes: flag.list(f, 'change'), pause: flag.bool(f, 'pause'),
    });
    ctx.out(`${Id}\n`);
  },
};

const KIND = ['C', 'A', 'D'] as const;

export const diff: Command = {
  usage: 'diff CONTAINER',
  description: "Inspect changes to files or directories on a container's filesystem",
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, args) {
    const changes = await (await ctx.client()).containerChanges(args[0]!);
    ctx.out((changes ?? []).map((c) => `${KIND[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
  },
};

/** go-units RAMInBytes: "64m", "1.5g", "512k", "1024" (binary multiples); -1 where allowed. */
export function ramInBytes(s: string, shown: string, allowUnlimited = false): number {
  if (allowUnlimited && s === '-1') return -1;
  const n = parseSize(s, 1024);
  if (n === undefined) throw cliError(`invalid argument "${s}" for "${shown}" flag: invalid size: '${s}'`, 125, true);
  return n;
}

function restartPolicy(s: string): { Name: string; MaximumRetryCount: number } {
  try { return parseRestartPolicy(s); } catch (e) { throw cliError((e as Error).message, 1); }
}

/** The update body from the flags given (flags left out change nothing). */
export function updateBody(f: FlagValues): ContainerUpdate {
  const b: ContainerUpdate = {};
  const str = (k: string) => flag.str(f, k);
  const int = (k: string) => flag.int(f, k);
  if (str('memory') !== undefined) b.Memory = ramInBytes(str('memory')!, '-m, --memory');
  if (str('memory-swap') !== undefined) b.MemorySwap = ramInBytes(str('memory-swap')!, '--memory-swap', true);
  if (str('memory-reservation') !== undefined) b.MemoryReservation = ramInBytes(str('memory-reservation')!, '--memory-reservation');
  if (str('cpus') !== undefined) b.NanoCpus = nanoCpus(str('cpus')!);
  if (int('cpu-shares') !== undefined) b.CpuShares = int('cpu-shares');
  if (int('cpu-period') !== undefined) b.CpuPeriod = int('cpu-period');
  if (int('cpu-quota') !== undefined) b.CpuQuota = int('cpu-quota');
  if (str('cpuset-cpus') !== undefined) b.CpusetCpus = str('cpuset-cpus');
  if (str('cpuset-mems') !== undefined) b.CpusetMems = str('cpuset-mems');
  if (int('pids-limit') !== undefined) b.PidsLimit = int('pids-limit');
  if (int('blkio-weight') !== undefined) b.BlkioWeight = int('blkio-weight');
  if (str('restart') !== undefined) b.RestartPolicy = restartPolicy(str('restart')!);
  return b;
}

export const update: Command = {
  usage: 'update [OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Update configuration of one or more containers',
  minArgs: 1,
  flags: ([
    { long: 'restart', type: 'string', valueName: 'string', description: 'Restart policy to apply when a container exits' },
    ...RESOURCE_FLAGS,
  ] as FlagSpec[]).sort((a, b) => a.long.localeCompare(b.long)),
  async run(ctx, args, f) {
    const body = updateBody(f);
    if (Object.keys(body).length === 0) throw cliError('you must provide one or more flags when using this command');
    const client = await ctx.client();
    const errors: string[] = [];
    const warnings: string[] = [];
    for (const name of args) {
      try {
        const r = await client.updateContainer(name, body);
        warnings.push(...(r?.Warnings ?? []));
        ctx.out(`${name}\n`);
      } catch (e) {
        if (!isBerthError(e)) throw e;
        errors.push(`Error response from daemon: ${e.message}`);
      }
    }
    // As the docker CLI: the daemon's warnings on stdout, after the names.
    if (warnings.length) ctx.out(`${warnings.join('\n')}\n`);
    if (errors.length) { ctx.err(`${errors.join('\n')}\n`); return 1; }
    return 0;
  },
};
