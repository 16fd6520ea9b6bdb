// berth info / system info
import type { SystemInfo } from '../../client/types.js';
import { flag, type Command } from '../command.js';
import { bytesSize } from '../format/human.js';
import { parseTemplate } from '../format/template.js';
import { packageInfo } from '../meta.js';

export function renderInfo(i: SystemInfo): string {
  const out: string[] = [];
  const p = (indent: number, label: string, v: unknown) => { if (v !== undefined && v !== null && v !== '') out.push(`${' '.repeat(indent)}${label}: ${v}`); };
  const list = (indent: number, label: string, vs: string[] | null | undefined) => {
    if (!vs || vs.length === 0) return;
    out.push(`${' '.repeat(indent)}${label}:`);
    for (const v of vs) out.push(`${' '.repeat(indent + 1)}${v}`);
  };
  p(1, 'Containers', i.Containers ?? 0);
  p(2, 'Running', i.ContainersRunning ?? 0);
  p(2, 'Paused', i.ContainersPaused ?? 0);
  p(2, 'Stopped', i.ContainersStopped ?? 0);
  p(1, 'Images', i.Images ?? 0);
  p(1, 'Server Version', i.ServerVersion);
  p(1, 'Storage Driver', i.Driver);
  for (const [k, v] of i.DriverStatus ?? []) p(2, k, v);
  p(1, 'Logging Driver', i.LoggingDriver);
  p(1, 'Cgroup Driver', i.CgroupDriver);
  p(1, 'Cgroup Version', i.CgroupVersion);
  if (i.Plugins) {
    out.push(' Plugins:');
    p(2, 'Volume', (i.Plugins.Volume ?? []).join(' '));
    p(2, 'Network', (i.Plugins.Network ?? []).join(' '));
    p(2, 'Log', (i.Plugins.Log ?? []).join(' '));
  }
  if (i.Swarm?.LocalNodeState) p(1, 'Swarm', i.Swarm.LocalNodeState);
  if (i.Runtimes) p(1, 'Runtimes', Object.keys(i.Runtimes).join(' '));
  p(1, 'Default Runtime', i.DefaultRuntime);
  list(1, 'Security Options', i.SecurityOptions);
  p(1, 'Kernel Version', i.KernelVersion);
  p(1, 'Operating System', i.OperatingSystem);
  p(1, 'OSType', i.OSType);
  p(1, 'Architecture', i.Architecture);
  p(1, 'CPUs', i.NCPU);
  if (typeof i.MemTotal === 'number') p(1, 'Total Memory', bytesSize(i.MemTotal));
  p(1, 'Name', i.Name);
  p(1, 'ID', i.ID);
  p(1, 'Berth Root Dir', i.DockerRootDir);
  p(1, 'Debug Mode', i.Debug === true);
  p(1, 'HTTP Proxy', i.HttpProxy);
  p(1, 'HTTPS Proxy', i.HttpsProxy);
  p(1, 'No Proxy', i.NoProxy);
  list(1, 'Labels', i.Labels);
  p(1, 'Experimental', i.ExperimentalBuild === true);
  list(1, 'Insecure Registries', [
    ...Object.values(i.RegistryConfig?.IndexConfigs ?? {}).filter((c) => !c.Secure).map((c) => c.Name),
    ...(i.RegistryConfig?.InsecureRegistryCIDRs ?? []),
  ]);
  list(1, 'Registry Mirrors', i.RegistryConfig?.Mirrors);
  p(1, 'Live Restore Enabled', i.LiveRestoreEnabled === true);
  return out.join('\n') + '\n';
}

const command: Command = {
  usage: 'info [OPTIONS]',
  description: 'Display system-wide information',
  maxArgs: 0,
  flags: [{ long: 'format', short: 'f', type: 'string', valueName: 'string', description: 'Format output using a custom template (\'json\', \'TEMPLATE\')' }],
  async run(ctx, _args, f) {
    const clientInfo = { Debug: ctx.debug, Version: packageInfo().version, Context: 'default' };
    const format = flag.str(f, 'format');
    if (format) {
      const tpl = format === 'json' ? undefined : parseTemplate(format);
      const info = await (await ctx.client()).info();
      const data = { ...info, ClientInfo: clientInfo };
      ctx.out((tpl ? tpl.execute(data) : JSON.stringify(data)) + '\n');
      return;
    }
    ctx.out(`Client:\n Version:    ${clientInfo.Version}\n Context:    default\n Debug Mode: ${ctx.debug}\n\nServer:\n`);
    const info = await (await ctx.client()).info();
    ctx.out(renderInfo(info));
    for (const w of info.Warnings ?? []) ctx.err(`${w}\n`);
  },
};

export default command;
