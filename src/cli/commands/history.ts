// berth history / image history
import type { HistoryItem } from '../../client/types.js';
import { flag, type Command } from '../command.js';
import { ellipsis, humanSize, rfc3339, shortId, since } from '../format/human.js';
import { renderRows, type Row } from '../format/output.js';

const HEADERS: Row = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export function historyRows(items: HistoryItem[], o: { human: boolean; noTrunc: boolean; now?: number }): Row[] {
  return items.map((h) => {
    const createdBy = h.CreatedBy.replace(/\t/g, ' ');
    return {
      ID: h.Id === '<missing>' || o.noTrunc ? h.Id : shortId(h.Id),
      CreatedSince: o.human ? since(h.Created, o.now) : rfc3339(h.Created),
      CreatedAt: rfc3339(h.Created),
      CreatedBy: o.noTrunc ? createdBy : ellipsis(createdBy, 45),
      Size: o.human ? humanSize(h.Size) : String(h.Size),
      Comment: h.Comment,
    };
  });
}

const command: Command = {
  usage: 'history [OPTIONS] IMAGE',
  description: 'Show the history of an image',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { long: 'format', type: 'string', valueName: 'string', description: 'Format output using a custom template (\'table\', \'table TEMPLATE\', \'json\', \'TEMPLATE\')' },
    { long: 'human', short: 'H', type: 'bool', default: true, description: 'Print sizes and dates in human readable format' },
    { long: 'no-trunc', type: 'bool', description: 'Don\'t truncate output' },
    { long: 'platform', type: 'string', valueName: 'string', description: 'Show history for the given platform' },
    { long: 'quiet', short: 'q', type: 'bool', description: 'Only show image IDs' },
  ],
  async run(ctx, args, f) {
    const client = await ctx.client();
    const items = await client.imageHistory(args[0]!);
    const human = flag.bool(f, 'human');
    const rows = historyRows(items, { human, noTrunc: flag.bool(f, 'no-trunc') });
    const def = flag.bool(f, 'quiet') ? '{{.ID}}'
      : human ? 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}'
        : 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    ctx.out(renderRows(flag.bool(f, 'quiet') ? undefined : flag.str(f, 'format'), def, HEADERS, rows));
  },
};

export default command;
