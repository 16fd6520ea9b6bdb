// berth version: client facts, then the server's /version.
import { arch, platform } from 'node:os';
import type { SystemVersion } from '../../client/types.js';
import { flag, type Command } from '../command.js';
import { packageInfo } from '../meta.js';
import { parseTemplate } from '../format/template.js';

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** docker shows build times in Go's ANSIC layout ("Thu May  7 21:09:36 2026"), local time. */
export function ansic(s: string): string {
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

const line = (indent: number, label: string, value: unknown) => `${' '.repeat(indent)}${`${label}:`.padEnd(20 - indent)}${value}\n`;

const command: Command = {
  usage: 'version [OPTIONS]',
  description: 'Show the Berth version information',
  maxArgs: 0,
  flags: [{ long: 'format', short: 'f', type: 'string', valueName: 'string', description: 'Format output using a custom template (\'json\', \'TEMPLATE\')' }],
  async run(ctx, _args, f) {
    const clientInfo = {
      Platform: { Name: 'Berth' },
      Version: packageInfo().version,
      ApiVersion: '',
      NodeVersion: process.version,
      Os: platform(),
      Arch: GOARCH[arch()] ?? arch(),
      Context: 'default',
    };
    let server: SystemVersion | undefined;
    let failure: unknown;
    try {
      const client = await ctx.client();
      server = await client.version();
      clientInfo.ApiVersion = server.ApiVersion;
    } catch (e) { failure = e; }
    const format = flag.str(f, 'format');
    if (format) {
      const data = { Client: clientInfo, Server: server ?? null };
      ctx.out((format === 'json' ? JSON.stringify(data) : parseTemplate(format).execute(data)) + '\n');
      if (failure) throw failure;
      return;
    }
    let s = 'Client:\n';
    s += line(1, 'Version', clientInfo.Version);
    if (clientInfo.ApiVersion) s += line(1, 'API version', clientInfo.ApiVersion);
    s += line(1, 'Node version', clientInfo.NodeVersion);
    s += line(1, 'OS/Arch', `${clientInfo.Os}/${clientInfo.Arch}`);
    s += line(1, 'Context', clientInfo.Context);
    ctx.out(s);
    if (!server) throw failure;
    let t = `\nServer:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}\n`;
    const comps = server.Components ?? [];
    const engine = comps.find((c) => c.Name === 'Engine');
    t += ' Engine:\n';
    t += line(2, 'Version', server.Version);
    t += line(2, 'API version', `${server.ApiVersion}${server.MinAPIVersion ? ` (minimum version ${server.MinAPIVersion})` : ''}`);
    if (server.GoVersion) t += line(2, 'Go version', server.GoVersion);
    if (engine?.Details?.NodeVersion) t += line(2, 'Node version', engine.Details.NodeVersion);
    if (server.GitCommit) t += line(2, 'Git commit', server.GitCommit);
    if (server.BuildTime) t += line(2, 'Built', ansic(server.BuildTime));
    t += line(2, 'OS/Arch', `${server.Os}/${server.Arch}`);
    t += line(2, 'Experimental', server.Experimental === true);
    for (const c of comps) {
      if (c.Name === 'Engine') continue;
      t += ` ${c.Name}:\n`;
      t += line(2, 'Version', c.Version);
      for (const [k, v] of Object.entries(c.Details ?? {})) t += line(2, k, v);
    }
    ctx.out(t);
  },
};

export default command;
