// Image metadata as one JSON file per image (images/<config-hex>.json), written atomically.
// The whole set is small, so it is read once at start and kept in memory; the files are the truth.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../util/fs.js';
import { isDigest, splitDigest } from '../../util/digest.js';

export interface LayerRecord {
  /** Digest of the blob as stored (compressed) in the content store. */
  digest: string;
  mediaType: string;
  size: number;
  diffId: string;
  chainId: string;
  /** Uncompressed tar size. */
  uncompressedSize: number;
  /** Bytes of the files' contents once unpacked: Docker's layer size (tar headers not counted). */
  usage?: number;
}

export interface ImageRecord {
  /** Image ID = digest of the config blob. */
  id: string;
  config: Record<string, unknown>;
  configMediaType: string;
  layers: LayerRecord[];
  repoTags: string[];
  /** Docker style "repo@sha256:…" of manifests pulled or pushed. */
  repoDigests: string[];
  /** Manifest digest last pulled or pushed (present in the content store). */
  manifestDigest?: string;
  manifestMediaType?: string;
  /** RFC 3339 from the config. */
  created: string;
  /** Docker's image size: the layers' content bytes (usage), tar sizes where that is unknown. */
  size: number;
  /** When the image arrived here (ms). */
  loadedAt: number;
  /** Parent image ID for locally committed/imported images (Docker's Parent). */
  parent?: string;
  comment?: string;
}

export class MetadataStore {
  readonly dir: string;
  private images = new Map<string, ImageRecord>();

  constructor(root: string) {
    this.dir = join(root, 'images');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.images.clear();
    for (const name of await fsp.readdir(this.dir)) {
      if (name.startsWith('.')) {
        // Leftover temp file of an interrupted atomic write.
        if (name.endsWith('.tmp')) await fsp.rm(join(this.dir, name), { force: true });
        continue;
      }
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
      try {
        const rec = await readJson<ImageRecord>(join(this.dir, name));
        if (rec && isDigest(rec.id)) this.images.set(rec.id, rec);
      } catch {
        // An unreadable record cannot be trusted: drop it (atomic writes make this rare).
        await fsp.rm(join(this.dir, name), { force: true });
      }
    }
  }

  list(): ImageRecord[] {
    return [...this.images.values()];
  }

  get(id: string): ImageRecord | undefined {
    return this.images.get(id);
  }

  async put(rec: ImageRecord): Promise<void> {
    const { hex } = splitDigest(rec.id);
    await writeJsonAtomic(join(this.dir, `${hex}.json`), rec);
    this.images.set(rec.id, rec);
  }

  async delete(id: string): Promise<void> {
    const { hex } = splitDigest(id);
    await fsp.rm(join(this.dir, `${hex}.json`), { force: true });
    this.images.delete(id);
  }
}
