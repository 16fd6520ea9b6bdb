// berth login / logout: credentials checked by the daemon (POST /auth), kept in config.json.
import { createInterface } from 'node:readline';
import { cliError } from '../args.js';
import { INDEX_SERVER, eraseAuth, lookupAuth, serverKey, storeAuth, hostnameOf } from '../auth.js';
import { flag, type Command, type Context } from '../command.js';

async function readAllStdin(ctx: Context): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Prompt on the terminal; with `secret` the typed characters are not echoed. */
async function prompt(ctx: Context, question: string, secret = false): Promise<string> {
  ctx.out(question);
  const stdin = ctx.stdin;
  if (!secret || !stdin.isTTY) {
    const rl = createInterface({ input: stdin, terminal: false });
    try {
      for await (const line of rl) return line;
      return '';
    } finally { rl.close(); }
  }
  return new Promise((resolve, reject) => {
    let buf = '';
    stdin.setRawMode(true);
    stdin.resume();
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      ctx.out('\n');
      if (err) reject(err); else resolve(buf);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(cliError('interrupted', 130));
        if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    stdin.on('data', onData);
  });
}

const command: Command = {
  usage: 'login [OPTIONS] [SERVER]',
  description: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.',
  maxArgs: 1,
  flags: [
    { long: 'password', short: 'p', type: 'string', valueName: 'string', description: 'Password or Personal Access Token (PAT)' },
    { long: 'password-stdin', type: 'bool', description: 'Take the Password or Personal Access Token (PAT) from stdin' },
    { long: 'username', short: 'u', type: 'string', valueName: 'string', description: 'Username' },
  ],
  async run(ctx, args, f) {
    const server = args[0] ?? INDEX_SERVER;
    const key = serverKey(server);
    let username = flag.str(f, 'username');
    let password = flag.str(f, 'password');
    if (password !== undefined) ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (flag.bool(f, 'password-stdin')) {
      if (password !== undefined) throw cliError('--password and --password-stdin are mutually exclusive');
      if (!username) throw cliError('Must provide --username with --password-stdin');
      password = (await readAllStdin(ctx)).replace(/[\r\n]+$/, '');
    }
    const client = await ctx.client();
    // No flags: try what is stored first, as docker does.
    if (username === undefined && password === undefined) {
      const stored = await lookupAuth(ctx.configDir, key);
      if (stored) {
        ctx.out('Authenticating with existing credentials...\n');
        try {
          const r = await client.auth({ ...stored, serveraddress: key });
          if (r.IdentityToken) await storeAuth(ctx.configDir, key, { username: stored.username ?? '', identitytoken: r.IdentityToken });
          ctx.out('Login Succeeded\n');
          return;
        } catch { /* fall through to a prompt */ }
      }
    }
    if (!username || password === undefined) {
      if (!ctx.stdin.isTTY) throw cliError('Error: Cannot perform an interactive login from a non TTY device');
      if (!username) username = (await prompt(ctx, 'Username: ')).trim();
      if (!username) throw cliError('Error: Non-null Username Required');
      if (password === undefined) password = await prompt(ctx, 'Password: ', true);
      if (!password) throw cliError('Error: Password Required');
    }
    const r = await client.auth({ username, password, serveraddress: key });
    await storeAuth(ctx.configDir, key, r.IdentityToken ? { username, identitytoken: r.IdentityToken } : { username, password });
    ctx.out(`${r.Status && r.Status !== 'Login Succeeded' ? `${r.Status}\n` : ''}Login Succeeded\n`);
  },
};

export const logout: Command = {
  usage: 'logout [SERVER]',
  description: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.',
  maxArgs: 1,
  async run(ctx, args) {
    const key = serverKey(args[0] ?? INDEX_SERVER);
    const shown = key === INDEX_SERVER ? key : hostnameOf(key);
    const removed = await eraseAuth(ctx.configDir, key);
    ctx.out(removed ? `Removing login credentials for ${shown}\n` : `Not logged in to ${shown}\n`);
  },
};

export default command;
