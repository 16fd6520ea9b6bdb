// Wire types of the Docker Engine API as the SDK returns them (from the engine API swagger).
// Only the fields clients read are spelled out; daemons may send more, hence the index signatures.

export type { ProgressMessage, ProgressDetail } from '../api/progress.js';

/** Filters in any shape the SDK accepts; sent as moby's {"key":{"value":true}} map. */
export type FiltersInput =
  | Record<string, string | string[] | Record<string, boolean> | undefined>
  | Map<string, Iterable<string>>;

import type { AuthConfig } from '../api/query.js';
/** Credentials for one registry (POST /auth body, X-Registry-Auth payload). */
export type { AuthConfig };

export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

export interface PingResult {
  ok: boolean;
  apiVersion?: string;
  osType?: string;
  experimental?: boolean;
  builderVersion?: string;
}

export interface ComponentVersion {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

export interface SystemVersion {
  Platform?: { Name: string };
  Components?: ComponentVersion[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
  [k: string]: unknown;
}

export interface SystemInfo {
  ID?: string;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Driver?: string;
  DriverStatus?: [string, string][] | null;
  DockerRootDir?: string;
  Plugins?: { Volume?: string[] | null; Network?: string[] | null; Authorization?: string[] | null; Log?: string[] | null };
  MemoryLimit?: boolean;
  SwapLimit?: boolean;
  CpuCfsPeriod?: boolean;
  CpuCfsQuota?: boolean;
  IPv4Forwarding?: boolean;
  Debug?: boolean;
  NFd?: number;
  NGoroutines?: number;
  SystemTime?: string;
  LoggingDriver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  NEventsListener?: number;
  KernelVersion?: string;
  OperatingSystem?: string;
  OSVersion?: string;
  OSType?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  IndexServerAddress?: string;
  RegistryConfig?: {
    InsecureRegistryCIDRs?: string[] | null;
    IndexConfigs?: Record<string, { Name: string; Mirrors: string[] | null; Secure: boolean; Official: boolean }>;
    Mirrors?: string[] | null;
  } | null;
  HttpProxy?: string;
  HttpsProxy?: string;
  NoProxy?: string;
  Name?: string;
  Labels?: string[] | null;
  ExperimentalBuild?: boolean;
  ServerVersion?: string;
  Runtimes?: Record<string, { path?: string; runtimeArgs?: string[] }>;
  DefaultRuntime?: string;
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; [k: string]: unknown };
  LiveRestoreEnabled?: boolean;
  Isolation?: string;
  InitBinary?: string;
  SecurityOptions?: string[] | null;
  Warnings?: string[] | null;
  [k: string]: unknown;
}

export interface EventActor {
  ID: string;
  Attributes?: Record<string, string>;
}

export interface EventMessage {
  Type: string;
  Action: string;
  Actor: EventActor;
  scope?: string;
  time: number;
  timeNano: number;
  /** Legacy fields older clients read (container events only). */
  status?: string;
  id?: string;
  from?: string;
}

export interface EventsOptions {
  filters?: FiltersInput;
  /** Unix seconds, RFC 3339 or a Go duration relative to now ("10m"). */
  since?: string | number;
  until?: string | number;
  signal?: AbortSignal;
}

export interface OCIPlatform {
  architecture?: string;
  os?: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface OCIDescriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: OCIPlatform;
  artifactType?: string;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  /** Unix seconds. */
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  Containers: number;
  Descriptor?: OCIDescriptor;
  [k: string]: unknown;
}

export interface ListImagesOptions {
  all?: boolean;
  filters?: FiltersInput;
  digests?: boolean;
  sharedSize?: boolean;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

export interface ImageConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig | null;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[] | null;
  [k: string]: unknown;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent?: string;
  Comment?: string;
  /** RFC 3339 with nanoseconds. */
  Created?: string;
  DockerVersion?: string;
  Author?: string;
  Config?: ImageConfig | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  VirtualSize?: number;
  GraphDriver?: { Name: string; Data: Record<string, string> | null };
  RootFS?: { Type: string; Layers?: string[] };
  Metadata?: { LastTagTime?: string };
  Descriptor?: OCIDescriptor;
  [k: string]: unknown;
}

export interface HistoryItem {
  Id: string;
  /** Unix seconds. */
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface ImageDeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export interface RemoveImageOptions {
  force?: boolean;
  noprune?: boolean;
}

export interface ImagePruneResponse {
  ImagesDeleted: ImageDeleteItem[] | null;
  SpaceReclaimed: number;
}

export interface PullOptions {
  /** "os[/arch[/variant]]". */
  platform?: string;
  /** Credentials, or an already encoded X-Registry-Auth value. */
  auth?: AuthConfig | string;
  /** Pull every tag of the repository (the reference must not carry a tag). */
  allTags?: boolean;
  signal?: AbortSignal;
}

export interface PushOptions {
  auth?: AuthConfig | string;
  /** Push only this tag (default: the reference's tag; none with allTags). */
  allTags?: boolean;
  platform?: string;
  signal?: AbortSignal;
}

export interface ImportOptions {
  repo?: string;
  tag?: string;
  /** Dockerfile instructions applied to the config (e.g. "CMD [\"sh\"]"). */
  changes?: string[];
  message?: string;
  platform?: string;
}

export interface LoadOptions {
  quiet?: boolean;
}

export interface DistributionInspect {
  Descriptor: OCIDescriptor;
  Platforms: OCIPlatform[];
}

/** Legacy (API ≤ 1.51) and current shapes of GET /system/df. */
export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: Array<Record<string, unknown>> | null;
  Volumes?: Array<Record<string, unknown>> | null;
  BuildCache?: Array<Record<string, unknown>> | null;
  ImageUsage?: { ActiveCount?: number; TotalCount?: number; Reclaimable?: number; TotalSize?: number; Items?: ImageSummary[] };
  ContainerUsage?: { ActiveCount?: number; TotalCount?: number; Reclaimable?: number; TotalSize?: number; Items?: unknown[] };
  VolumeUsage?: { ActiveCount?: number; TotalCount?: number; Reclaimable?: number; TotalSize?: number; Items?: unknown[] };
  BuildCacheUsage?: { ActiveCount?: number; TotalCount?: number; Reclaimable?: number; TotalSize?: number; Items?: unknown[] };
  [k: string]: unknown;
}

// ---- containers ---------------------------------------------------------------------------------

/** X-Docker-Container-Path-Stat of the archive endpoints (mode carries Go's os.FileMode bits). */
export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** One entry of GET /containers/{id}/changes: Kind 0 modified, 1 added, 2 deleted. */
export interface ContainerChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** Fields of GET /containers/{id}/stats the CLI reads (cgroup v1 and v2 shapes). */
export interface ContainerStatsSample {
  read: string;
  preread?: string;
  id: string;
  name: string;
  pids_stats?: { current?: number; limit?: number };
  blkio_stats?: { io_service_bytes_recursive?: { major: number; minor: number; op: string; value: number }[] | null };
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; max_usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number; [k: string]: number }>;
  [k: string]: unknown;
}

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode?: number; usage_in_usermode?: number };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** POST /containers/{id}/update body (a subset of HostConfig). */
export interface ContainerUpdate {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number;
  BlkioWeight?: number;
  RestartPolicy?: { Name: string; MaximumRetryCount?: number };
}

export interface CommitOptions {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Dockerfile instructions applied to the image config ("ENV A=1"). */
  changes?: string[];
  pause?: boolean;
}

/** GET /networks, /networks/{id}: a network as the daemon describes it. */
export interface NetworkResource {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: { Subnet?: string; Gateway?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  [k: string]: unknown;
}

export interface NetworkPruneResponse {
  NetworksDeleted: string[] | null;
}
