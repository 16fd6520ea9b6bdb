// berth push / image push
import { familiarName, formatReference, parseReference } from '../../oci/reference.js';
import { cliError } from '../args.js';
import { domainOfReference, lookupAuth } from '../auth.js';
import { flag, type Command } from '../command.js';
import { showProgress } from '../stream.js';

const command: Command = {
  usage: 'push [OPTIONS] NAME[:TAG]',
  description: 'Upload an image to a registry',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { long: 'all-tags', short: 'a', type: 'bool', description: 'Push all tags of an image to the repository' },
    { long: 'disable-content-trust', type: 'bool', description: 'Skip image signing', default: true, hidden: true },
    { long: 'platform', type: 'string', valueName: 'string', description: 'Push a platform-specific manifest as a single-platform image to the registry' },
    { long: 'quiet', short: 'q', type: 'bool', description: 'Suppress verbose output' },
  ],
  async run(ctx, args, f) {
    const all = flag.bool(f, 'all-tags');
    const quiet = flag.bool(f, 'quiet');
    const ref = parseReference(args[0]!);
    if (ref.digest !== undefined) throw cliError('cannot push a digest reference');
    if (all && ref.tag !== undefined) throw cliError('tag can\'t be used with --all-tags/-a');
    if (!all && ref.tag === undefined) {
      ref.tag = 'latest';
      if (!quiet) ctx.out('Using default tag: latest\n');
    }
    const auth = await lookupAuth(ctx.configDir, domainOfReference(args[0]!));
    const client = await ctx.client();
    const apiRef = familiarName(ref) + (ref.tag && !all ? `:${ref.tag}` : '');
    await showProgress(ctx, client.push(apiRef, { auth, allTags: all, platform: flag.str(f, 'platform') }), { quiet });
    if (quiet) ctx.out(`${formatReference(ref)}\n`);
  },
};

export default command;
