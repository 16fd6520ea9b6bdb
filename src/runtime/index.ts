// The container runtime layer (L3): OCI spec generation, root filesystems, and the runc/crun +
// conmon driver. The engine's container service builds on these exports. Typical `run`:
//   user  = await resolveUser(imageRootfsOrMergedRootfs, config.User)
//   initLayer = await ensureSharedInitLayer(<root>/init-layer-2); etc = await writeEtcFiles(<ctr>, {hostname, hosts: <text>})
//   {rootfs} = await prepareRootfs({layers /* top-most first */, initLayer, containerDir})
//   spec = buildSpec({id, rootfs, image: config, user, ...etc, ...createOptions}) → <ctr>/config.json
//   {pid} = await runtime.create({id, bundle: <ctr>, tty, stdin, logPath})  // netns: /proc/<pid>/ns/net
//   streams = await runtime.attach(id); await runtime.start(id); await runtime.waitExit(id)
//   await runtime.delete(id); await releaseRootfs(<ctr>)
export {
  buildSpec, serializeSpec, computeCapabilities, processCapabilities, parseBind, cleanPath, validateMount, findInitBinary,
  type OciSpec, type OciThrottleDevice, type OciProcess, type OciMount, type OciUser, type OciRlimit, type OciNamespace, type OciResources,
  type SpecOptions, type SpecResources, type ImageRuntimeConfig, type Ulimit,
} from './spec.js';
export {
  DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS, DEFAULT_DEVICES, DEFAULT_DEVICE_CGROUP, DEFAULT_SHM_SIZE,
  DEFAULT_SECCOMP_PROFILE, dockerSeccompToOci, hasCgroupNamespace, hostCapabilities, hostHardLimits, normalizeCap,
  type DockerSeccompProfile, type OciSeccomp,
} from './defaults.js';
export { resolveUser, readConfinedFile } from './user.js';
export {
  Runtime, detectRuntime, namedRuntime, signalNumber, parseSignal, signalSupported,
  type RuntimeInfo, type CreateOptions, type ContainerState, type ExitStatus, type AttachStreams, type ExecOptions, type ExecSession,
} from './runtime.js';
export type { ContainerStats, BlkioEntry } from './stats.js';
export {
  prepareRootfs, releaseRootfs, mountShm, SHM_DIR, mountOverlay, unmountRootfs, createInitLayer, ensureSharedInitLayer, writeEtcFiles, checkSpecialPaths, copyLayers, checkBindPropagation,
  overlaySupported, MAX_LOWER_LAYERS, type OverlayOptions, type PrepareRootfsOptions, type EtcFilesOptions,
} from './rootfs.js';
export { ensureHelper } from './helper.js';
export { readLog, parseLogLine, type LogEntry, type ReadLogOptions } from './logs.js';
export { installedRuntimes, which } from './binaries.js';
