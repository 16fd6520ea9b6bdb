// Container networking: the default bridge network (IPAM, NAT, published ports), network modes,
// and the per-container /etc files.
export { NetworkManager, SUBNET_CANDIDATES, DEFAULT_BRIDGE, DEFAULT_ROOT, MAX_BRIDGES, defaultSubnet } from './manager.js';
export type { NetworkManagerOptions, AttachOptions, AttachResult, NetworkInfo, BuiltinNetwork } from './manager.js';
export { parsePortSpec, parsePortKey, portRequestsFromConfig, toDockerPorts, allocatePorts, portFree, holdPort, ephemeralRange } from './ports.js';
export type { PortHold } from './ports.js';
export type { PortRequest, PortBinding, Protocol, DockerPortMap } from './ports.js';
export { parseNetworkMode } from './mode.js';
export { setToolRunner, type ToolRunner, type ToolResult } from './exec.js';
export type { NetworkMode } from './mode.js';
export { hostsFile, hostnameFile, ownHostsLine, resolvConf, readHostResolvConf, extraHostLine, DEFAULT_NAMESERVERS } from './etc.js';
export type { HostsOptions, ResolvOptions } from './etc.js';
export { allocateIp, releaseIps, parseSubnet, formatSubnet, ipToInt, intToIp, macForIp, newIpamState } from './ipam.js';
export type { IpamState, Subnet } from './ipam.js';
