// The y/N question of docker's prune commands, read from the command's stdin.
import { createInterface } from 'node:readline';
import type { Context } from './command.js';

export async function confirm(ctx: Context, warning: string): Promise<boolean> {
  ctx.out(`${warning}\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: ctx.stdin, terminal: false });
  try {
    for await (const line of rl) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally { rl.close(); }
}
