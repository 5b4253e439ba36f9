/** Where the menus' freshness comes from: the directory cache's version, re-read at most once a second. */
export interface VersionSource {
  currentVersion(): Promise<number>;
}

/**
 * The panel's menus (departments to transfer to or filter by, agents to assign) are read on every ticket and
 * queue page yet change a few times a year. Every change to departments, agents or memberships raises the
 * directory version (directory/directory-version.ts) in its own transaction, so a menu is kept for as long as
 * that number stands: this node sees its own change at once, another node within DIRECTORY_REFRESH_MS. Only
 * for what is offered: whatever an agent chooses is checked against the database when saved
 * (TicketService.transfer and assign), so a stale entry is refused.
 */
export class MenuCache {
  private readonly entries = new Map<string, { version: number; value: Promise<unknown> }>();

  constructor(private readonly directory: VersionSource) {}

  /** The cached value for `key`, or `load`'s; concurrent misses share one load, and a failed load is not kept. */
  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const version = await this.directory.currentVersion();
    const hit = this.entries.get(key);
    if (hit && hit.version === version) return hit.value as Promise<T>;
    const value = load();
    this.entries.set(key, { version, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }
}
