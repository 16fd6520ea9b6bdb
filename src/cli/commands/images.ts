// berth images / image ls
import type { ImageSummary } from '../../client/types.js';
import { filterFlags } from '../args.js';
import { flag, type Command } from '../command.js';
import { goTimeString, humanSize, shortId, since } from '../format/human.js';
import { renderRows, splitRepo, type Row } from '../format/output.js';

const HEADERS: Row = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};

function isDangling(img: ImageSummary): boolean {
  const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  const digests = (img.RepoDigests ?? []).filter((d) => d !== '<none>@<none>');
  return tags.length === 0 && digests.length === 0;
}

/** One row per repository:tag (and per digest with --digests), as docker's image formatter does. */
export function imageRows(images: ImageSummary[], o: { digests: boolean; noTrunc: boolean; now?: number }): Row[] {
  const rows: Row[] = [];
  for (const img of images) {
    const base = {
      ID: o.noTrunc ? img.Id : shortId(img.Id),
      CreatedSince: since(img.Created, o.now),
      CreatedAt: goTimeString(img.Created),
      Size: humanSize(img.Size),
      Containers: img.Containers === undefined || img.Containers < 0 ? 'N/A' : String(img.Containers),
      SharedSize: img.SharedSize === undefined || img.SharedSize < 0 ? 'N/A' : humanSize(img.SharedSize),
      UniqueSize: img.SharedSize === undefined || img.SharedSize < 0 ? 'N/A' : humanSize(img.Size - img.SharedSize),
      VirtualSize: humanSize(img.VirtualSize ?? img.Size, 4),
    };
    const add = (repo: string, tag: string, digest: string) => rows.push({ ...base, Repository: repo, Tag: tag, Digest: digest });
    if (isDangling(img)) { add('<none>', '<none>', '<none>'); continue; }
    const tags = new Map<string, string[]>();
    const digests = new Map<string, string[]>();
    for (const t of img.RepoTags ?? []) {
      const r = splitRepo(t);
      if (r.tag !== undefined && r.repo !== '<none>') (tags.get(r.repo) ?? tags.set(r.repo, []).get(r.repo)!).push(r.tag);
    }
    for (const d of img.RepoDigests ?? []) {
      const r = splitRepo(d);
      if (r.digest !== undefined && r.repo !== '<none>') (digests.get(r.repo) ?? digests.set(r.repo, []).get(r.repo)!).push(r.digest);
    }
    for (const [repo, ts] of tags) {
      const ds = o.digests ? digests.get(repo) ?? [] : [];
      digests.delete(repo);
      for (const t of ts) {
        if (ds.length === 0) add(repo, t, '<none>');
        else for (const d of ds) add(repo, t, d);
      }
    }
    for (const [repo, ds] of digests) {
      if (o.digests) for (const d of ds) add(repo, '<none>', d);
      else add(repo, '<none>', '<none>');
    }
  }
  return rows;
}

const command: Command = {
  usage: 'images [OPTIONS] [REPOSITORY[:TAG]]',
  description: 'List images',
  maxArgs: 1,
  flags: [
    { long: 'all', short: 'a', type: 'bool', description: 'Show all images (default hides intermediate images)' },
    { long: 'digests', type: 'bool', description: 'Show digests' },
    { long: 'filter', short: 'f', type: 'list', valueName: 'filter', description: 'Filter output based on conditions provided' },
    { long: 'format', type: 'string', valueName: 'string', description: 'Format output using a custom template:\n      \'table\':            Print output in table format with column headers (default)\n      \'table TEMPLATE\':   Print output in table format using the given Go template\n      \'json\':             Print in JSON format\n      \'TEMPLATE\':         Print output using the given Go template' },
    { long: 'no-trunc', type: 'bool', description: 'Don\'t truncate output' },
    { long: 'quiet', short: 'q', type: 'bool', description: 'Only show image IDs' },
  ],
  async run(ctx, args, f) {
    const filters = filterFlags(flag.list(f, 'filter'));
    if (args[0]) (filters.reference ??= []).push(args[0]);
    const client = await ctx.client();
    const format = flag.str(f, 'format');
    const digests = flag.bool(f, 'digests') || (format?.includes('.Digest') ?? false);
    const images = await client.listImages({ all: flag.bool(f, 'all'), filters });
    const rows = imageRows(images, { digests, noTrunc: flag.bool(f, 'no-trunc') });
    let def = digests
      ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
      : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
    if (flag.bool(f, 'quiet')) def = '{{.ID}}';
    ctx.out(renderRows(flag.bool(f, 'quiet') ? undefined : format, def, HEADERS, rows));
  },
};

export default command;
