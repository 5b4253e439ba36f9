/**
 * Queue counts, reused for a short while: counting is most of a queue page's cost (at 100,000 tickets the
 * closed count alone reads ~80,000 index entries), yet an agent views queues all day. The built-in queues'
 * counts and the saved queues' counts (saved-queues/) share one cache, so that a ticket change on this node,
 * which the ticket repository reports through `changed()`, drops both at once; changes made on another node
 * show within the time to live.
 */
export class CountCache {
  private readonly entries = new Map<string, { expires: number; value: Promise<unknown> }>();
  private generation = 0;

  constructor(private readonly ttlMs: number) {}

  /** Forgets every count: a ticket may have moved into or out of any queue. */
  changed(): void {
    this.generation++;
    this.entries.clear();
  }

  /** The cached value for `key`, or `load`'s; concurrent misses share one load, and a failed load is not kept. */
  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (!entry || entry.expires <= performance.now()) {
      // Shared while in flight, so that agents arriving together after expiry count once, not each.
      const generation = this.generation;
      const value = load();
      const created = { expires: performance.now() + this.ttlMs, value };
      entry = created;
      if (this.entries.size >= 1000) this.entries.clear();
      this.entries.set(key, created);
      // A change that landed while counting may be missing from these figures: do not keep them.
      const forget = () => generation !== this.generation && this.entries.get(key) === created && this.entries.delete(key);
      value.then(forget, () => this.entries.get(key) === created && this.entries.delete(key));
    }
    return entry.value as Promise<T>;
  }
}
