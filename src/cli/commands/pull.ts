// berth pull / image pull
import { familiarName, formatReference, parseReference, repositoryName } from '../../oci/reference.js';
import { cliError } from '../args.js';
import { domainOfReference, lookupAuth } from '../auth.js';
import { flag, type Command } from '../command.js';
import { showProgress } from '../stream.js';

const command: Command = {
  usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
  description: 'Download an image from a registry',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { long: 'all-tags', short: 'a', type: 'bool', description: 'Download all tagged images in the repository' },
    { long: 'disable-content-trust', type: 'bool', description: 'Skip image verification', default: true, hidden: true },
    { long: 'platform', type: 'string', valueName: 'string', description: 'Set platform if server is multi-platform capable' },
    { long: 'quiet', short: 'q', type: 'bool', description: 'Suppress verbose output' },
  ],
  async run(ctx, args, f) {
    const all = flag.bool(f, 'all-tags');
    const quiet = flag.bool(f, 'quiet');
    const ref = parseReference(args[0]!);
    if (all && (ref.tag !== undefined || ref.digest !== undefined)) throw cliError('tag can\'t be used with --all-tags/-a');
    if (!all && ref.tag === undefined && ref.digest === undefined) {
      ref.tag = 'latest';
      if (!quiet) ctx.out('Using default tag: latest\n');
    }
    const auth = await lookupAuth(ctx.configDir, domainOfReference(args[0]!));
    const client = await ctx.client();
    const apiRef = familiarName(ref) + (ref.digest ? `@${ref.digest}` : ref.tag ? `:${ref.tag}` : '');
    await showProgress(ctx, client.pull(apiRef, { platform: flag.str(f, 'platform'), auth, allTags: all }), { quiet });
    ctx.out(`${all ? repositoryName(ref) : formatReference(ref)}\n`);
  },
};

export default command;
