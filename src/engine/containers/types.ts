// The persisted shape of a container (<root>/containers/<id>/container.json) and the Docker wire
// types we accept on create.

export interface HealthConfig { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number; StartInterval?: number }

/** Docker's container Config (create body minus HostConfig/NetworkingConfig). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  /** `--mac-address` (API < 1.44 sends it here; later ones in the endpoint's settings, kept here too). */
  MacAddress?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, unknown> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | string | null;
  Healthcheck?: HealthConfig | null;
  Image?: string;
  Volumes?: Record<string, unknown> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | string | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  [k: string]: unknown;
}

export interface RestartPolicy { Name?: string; MaximumRetryCount?: number }
export interface PortBinding { HostIp?: string; HostPort?: string }
export interface MountSpec {
  Type?: string; Source?: string; Target?: string; ReadOnly?: boolean; TmpfsOptions?: { SizeBytes?: number; Mode?: number };
  /** `bind-propagation`: private, rprivate, shared, rshared, slave or rslave ('' for rprivate). */
  BindOptions?: { Propagation?: string };
}

export interface HostConfig {
  Binds?: string[] | null;
  NetworkMode?: string;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  PublishAllPorts?: boolean;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  Mounts?: MountSpec[] | null;
  Tmpfs?: Record<string, string> | null;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  Init?: boolean | null;
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  Ulimits?: { Name: string; Soft: number; Hard: number }[] | null;
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean | null;
  OomScoreAdj?: number;
  BlkioWeight?: number;
  BlkioWeightDevice?: { Path?: string; Weight?: number }[] | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  CpuRealtimeRuntime?: number;
  CpuRealtimePeriod?: number;
  StorageOpt?: Record<string, string> | null;
  /** `--cgroup-parent`: the container's cgroup is <parent>/<id> instead of /berth/<id>. */
  CgroupParent?: string;
  LogConfig?: { Type?: string; Config?: Record<string, string> | null } | null;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  /** `--cgroupns`: '' (the daemon's default), 'host' or 'private'. */
  CgroupnsMode?: string;
  Devices?: { PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }[] | null;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  Runtime?: string;
  ExtraHosts?: string[] | null;
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  GroupAdd?: string[] | null;
  ConsoleSize?: number[] | null;
  [k: string]: unknown;
}

export interface ContainerStateRec {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  OOMKilled: boolean;
  Health?: { Status: string; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] };
}

export interface NetworkRec {
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  /** "80/tcp" → bindings actually made. */
  Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  SandboxKey: string;
  NetworkID?: string;
  EndpointID?: string;
}

export interface ContainerRecord {
  Id: string;
  Name: string; // without the leading slash
  Created: string;
  ImageId: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  /** The image config as it was at create (for Entrypoint/Cmd split and inspect). */
  Path: string;
  Args: string[];
  State: ContainerStateRec;
  RestartCount: number;
  /** Set by `docker stop`/`kill` (a manual stop suppresses restart policies). */
  ManualStop?: boolean;
  HasBeenStarted?: boolean;
  Network?: NetworkRec;
  Platform: string;
}

/** A block device limit as the API carries it: the device node's path and a rate (bytes or operations per second). */
export interface ThrottleDevice { Path?: string; Rate?: number }
