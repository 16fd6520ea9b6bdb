// berth attach and berth export: the container commands that carry a container's streams or its
// filesystem to this terminal or a file.
import { createWriteStream, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checkOutputPath } from '../output-path.js';
import { cliError } from '../args.js';
import { flag, type Command, type Context } from '../command.js';
import { checkTty, demux, hijack } from './hijack.js';
import { detachFilter, parseDetachKeys as parseKeys } from '../../util/detach-keys.js';

// Loaded only for a TTY session (it brings node:child_process, which `run` otherwise does without).
const rawTty = () => import('../raw-tty.js');

const enc = encodeURIComponent;

// ---- attach --------------------------------------------------------------------------------------

/** Docker's detach-key syntax, refused in the CLI's words. */
export function parseDetachKeys(spec: string): Buffer {
  try { return parseKeys(spec); } catch (e) { throw cliError((e as Error).message); }
}

export { detachFilter };

const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export const attach: Command = {
  usage: 'attach [OPTIONS] CONTAINER',
  description: 'Attach local standard input, output, and error streams to a running container',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { long: 'detach-keys', type: 'string', valueName: 'string', description: 'Override the key sequence for detaching a container' },
    { long: 'no-stdin', type: 'bool', description: 'Do not attach STDIN' },
    { long: 'sig-proxy', type: 'bool', description: 'Proxy all received signals to the process', default: true },
  ],
  async run(ctx, args, f) {
    const client = await ctx.client();
    const t = client.transport;
    const info = await t.json<{ Id: string; State: { Running: boolean; Paused: boolean; Restarting: boolean }; Config: { Tty: boolean; OpenStdin: boolean } }>({ path: `/containers/${enc(args[0]!)}/json` });
    if (!info.State.Running) throw cliError('You cannot attach to a stopped container, start it first');
    if (info.State.Paused) throw cliError('You cannot attach to a paused container, unpause it first');
    if (info.State.Restarting) throw cliError('You cannot attach to a restarting container, wait until it is running');
    const id = info.Id;
    const tty = info.Config.Tty;
    checkTty(ctx.stdin, !flag.bool(f, 'no-stdin'), tty);
    const useStdin = info.Config.OpenStdin && !flag.bool(f, 'no-stdin');
    const keysSpec = flag.str(f, 'detach-keys');
    const keys = parseDetachKeys(keysSpec ?? 'ctrl-p,ctrl-q');
    // The wait goes out first so the exit status of a container that ends right away is not missed.
    const waitRes = await t.request({ method: 'POST', path: `/containers/${id}/wait` });
    const status = (async () => { let s = ''; for await (const c of waitRes) s += (c as Buffer).toString(); return (JSON.parse(s || '{}') as { StatusCode?: number }).StatusCode ?? 0; })();
    status.catch(() => {});
    const q = `stream=1&stdout=1&stderr=1${useStdin ? '&stdin=1' : ''}${keysSpec ? `&detachKeys=${enc(keysSpec)}` : ''}`;
    const sock = await hijack(client, `/containers/${id}/attach?${q}`);
    let detached = false;
    const streamDone = new Promise<void>((r) => { sock.once('end', () => r()); sock.once('close', () => r()); sock.once('error', () => r()); });
    if (tty) sock.pipe(ctx.stdout, { end: false });
    else { demux(sock, (b) => ctx.stdout.write(b), (b) => ctx.stderr.write(b)); sock.resume(); }
    const raw = tty && useStdin && ctx.stdin.isTTY === true;
    const cleanups: (() => void)[] = [];
    if (raw) cleanups.push((await rawTty()).enterRaw(ctx.stdin));
    if (useStdin) {
      const onData = detachFilter(keys, (b) => { sock.write(b); }, () => { detached = true; sock.destroy(); });
      ctx.stdin.on('data', onData);
      ctx.stdin.once('end', () => { if (!sock.destroyed) sock.end(); });
      cleanups.push(() => { ctx.stdin.off('data', onData); ctx.stdin.pause(); });
    }
    if (flag.bool(f, 'sig-proxy') && !tty) {
      for (const sig of PROXIED_SIGNALS) {
        const h = () => { void t.empty({ method: 'POST', path: `/containers/${id}/kill`, query: { signal: sig } }).catch(() => {}); };
        process.on(sig, h);
        cleanups.push(() => process.off(sig, h));
      }
    }
    if (tty && ctx.stdout.isTTY) {
      const resize = () => t.empty({ method: 'POST', path: `/containers/${id}/resize`, query: { h: ctx.stdout.rows, w: ctx.stdout.columns } }).then(() => {}, () => {});
      await resize();
      const h = () => void resize();
      ctx.stdout.on('resize', h);
      cleanups.push(() => ctx.stdout.off('resize', h));
    }
    try {
      await streamDone;
    } finally {
      for (const c of cleanups.reverse()) c();
    }
    if (detached) {
      // docker reports a detach this way too (status 1, the container keeps running).
      waitRes.destroy();
      ctx.err('read escape sequence\n');
      return 1;
    }
    return status;
  },
};

// ---- export --------------------------------------------------------------------------------------

/** Write a stream to `file` through a temporary file in the same directory (no half-written file). */
async function writeFileFrom(src: NodeJS.ReadableStream, file: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  try {
    await pipeline(src, createWriteStream(tmp, { mode: 0o600 }));
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

export const exportCmd: Command = {
  usage: 'export [OPTIONS] CONTAINER',
  description: "Export a container's filesystem as a tar archive",
  minArgs: 1,
  maxArgs: 1,
  flags: [{ long: 'output', short: 'o', type: 'string', valueName: 'string', description: 'Write to a file, instead of STDOUT' }],
  async run(ctx: Context, args, f) {
    const out = flag.str(f, 'output');
    if (!out && ctx.stdout.isTTY) throw cliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    if (out) await checkOutputPath(out, 'failed to export container');
    const client = await ctx.client();
    const tar = await client.exportContainer(args[0]!);
    if (out) await writeFileFrom(tar, out);
    else await pipeline(tar, ctx.stdout, { end: false });
  },
};
