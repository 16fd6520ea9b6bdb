// A small LRU map bounded by entry count and optional total weight; keeps hot paths off the disk.
export class Lru<K, V> {
  private map = new Map<K, { v: V; w: number; at: number }>();
  private weight = 0;
  constructor(private maxEntries: number, private maxWeight = Infinity, private ttlMs = Infinity) {}
  get(k: K): V | undefined {
    const e = this.map.get(k);
    if (!e) return undefined;
    if (this.ttlMs !== Infinity && Date.now() - e.at > this.ttlMs) { this.delete(k); return undefined; }
    this.map.delete(k);
    this.map.set(k, e);
    return e.v;
  }
  set(k: K, v: V, w = 1): void {
    this.delete(k);
    if (w > this.maxWeight) return;
    this.map.set(k, { v, w, at: Date.now() });
    this.weight += w;
    while (this.map.size > this.maxEntries || this.weight > this.maxWeight) {
      const oldest = this.map.keys().next().value as K;
      this.delete(oldest);
    }
  }
  delete(k: K): void {
    const e = this.map.get(k);
    if (e) { this.weight -= e.w; this.map.delete(k); }
  }
  clear(): void { this.map.clear(); this.weight = 0; }
}
