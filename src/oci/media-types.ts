// Media types of the Docker v2 and OCI image formats.
export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

/** Manifest types Berth understands (image manifests first, then indexes). */
export const MANIFEST_TYPES: readonly string[] = [MediaTypes.dockerManifest, MediaTypes.ociManifest];
export const INDEX_TYPES: readonly string[] = [MediaTypes.dockerManifestList, MediaTypes.ociIndex];
export const SCHEMA1_TYPES: readonly string[] = [MediaTypes.dockerSchema1, MediaTypes.dockerSchema1Signed];
/** Default Accept list for manifest requests (schema1 deliberately absent). */
export const MANIFEST_ACCEPT: readonly string[] = [...MANIFEST_TYPES, ...INDEX_TYPES];

export function isManifestType(t: string | undefined): boolean {
  return t !== undefined && MANIFEST_TYPES.includes(t);
}
export function isIndexType(t: string | undefined): boolean {
  return t !== undefined && INDEX_TYPES.includes(t);
}
