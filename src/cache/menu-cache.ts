import type { Clock } from '../db/time.js';

/** How long a node may show a menu (departments, assignable agents) that another node has changed since. */
export const MENU_TTL_MS = 5_000;

/**
 * The panel's menus (departments to transfer to or filter by, agents to assign) are read on every ticket and
 * queue page yet change a few times a year. They are kept here for MENU_TTL_MS: this node's own changes clear
 * them at once (a page read while the change commits may keep the old menu, as another node would), other
 * nodes' show within MENU_TTL_MS. Only for what is offered: whatever an agent chooses is
 * checked against the database when saved (TicketService.transfer and assign), so a stale entry is refused.
 */
export class MenuCache {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = MENU_TTL_MS,
  ) {}

  /** The cached value for `key`, or `load`'s; concurrent misses share one load, and a failed load is not kept. */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.clock.now().getTime();
    const hit = this.entries.get(key);
    if (hit && now - hit.at >= 0 && now - hit.at < this.ttlMs) return hit.value as Promise<T>;
    const value = load();
    this.entries.set(key, { at: now, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
