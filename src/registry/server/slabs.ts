// Reused batch buffers for uploads: shared memory (the hash worker reads it in place) whose slabs
// start on page boundaries (the driver's direct writes need that; see storage.ts). Reused, because
// a fresh 1 MiB buffer per batch is fresh pages per batch: the page faults doubled the event loop's
// kernel time at disk speed.
import { alignedSharedBuffer, DIRECT_ALIGN } from './storage.js';

/** Every WebAssembly memory reserves ~10 GiB of address space and V8 caps the total at about
 *  1 TiB, so slabs are carved from shared arenas of this many rather than one memory each. */
const SLABS_PER_ARENA = 16;

interface Arena { free: Buffer[] }

export class SlabPool {
  private readonly stride: number;
  private arenas: Arena[] = [];
  private readonly owner = new Map<ArrayBufferLike, Arena>();

  constructor(readonly size: number) {
    this.stride = Math.ceil(size / DIRECT_ALIGN) * DIRECT_ALIGN;
  }

  /** A slab of `size` bytes (of at least `min`: a larger one is made for that call alone). */
  take(min: number): Buffer {
    if (min > this.size) return alignedSharedBuffer(min);
    for (const a of this.arenas) {
      const b = a.free.pop();
      if (b) return b;
    }
    const mem = alignedSharedBuffer(this.stride * SLABS_PER_ARENA);
    const arena: Arena = { free: [] };
    for (let i = 1; i < SLABS_PER_ARENA; i++) arena.free.push(mem.subarray(i * this.stride, i * this.stride + this.size));
    this.arenas.push(arena);
    this.owner.set(mem.buffer, arena);
    return mem.subarray(0, this.size);
  }

  /** Arenas alive (for tests and diagnostics). */
  get arenaCount(): number { return this.arenas.length; }

  give(b: Buffer): void {
    const arena = this.owner.get(b.buffer);
    if (!arena) return;
    arena.free.push(b);
    // A burst's extra arenas go once idle again (the first one stays for the next upload).
    if (arena.free.length === SLABS_PER_ARENA && arena !== this.arenas[0]) {
      this.arenas = this.arenas.filter((a) => a !== arena);
      this.owner.delete(b.buffer);
    }
  }
}
