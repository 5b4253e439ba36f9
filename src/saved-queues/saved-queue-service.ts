import type { CountCache } from '../cache/count-cache.js';
import type { MenuCache } from '../cache/menu-cache.js';
import { refusingDuplicates } from '../db/errors.js';
import { ValidationError, forbidden, notFound, type FieldErrors } from '../errors.js';
import { msg } from '../i18n/message.js';
import { fold } from '../search/tokenize.js';
import { readSavedSearch, savedSearchQuery, type SearchUrl } from '../search/search-url.js';
import { checkFilters, type SearchListPage, type SearchService } from '../search/search-service.js';
import type { StaffPrincipal } from '../staff/staff.js';
import { SORTS, type Sort } from '../tickets/ticket.js';
import { NAME_KEY_MAX, NAME_MAX, type SavedQueue } from './saved-queue.js';
import type { SavedQueueRepository } from './saved-queue-repository.js';

export interface SaveInput {
  name: string;
  /** For every agent: administrators only. */
  shared: boolean;
  /** The search as its URL has it (search/search-url.ts): read again here, so only what a search understands is kept. */
  search: SearchUrl;
}

export interface SavedQueueCount {
  total: number;
  /** More than `total` match (search counts stop at COUNT_CAP). */
  more: boolean;
}

export interface SavedQueuePageParams {
  sort?: string;
  dir?: string;
  cursor?: string | null;
}

/** A name the owner already gave another queue: a field error, also when a racing save got there first. */
const NAME_TAKEN: FieldErrors = { name: 'validation.saved_queue.name_taken' };
const queueNotFound = () => notFound('SAVED_QUEUE_NOT_FOUND', 'errors.saved_queue.not_found');

/** The key a name is unique by among its owner's queues: case and accents folded, as both engines then agree. */
const nameKey = (name: string): string => [...fold(name)].slice(0, NAME_KEY_MAX).join('');

/**
 * Saved searches as queues (issue 11, item 4). The queue bar shows an agent's own and the shared ones after the
 * built-in queues, each with its count; opening one lists its search's results as a queue page. Counting is a
 * search's count (capped; a statement or two per word, by filters alone one), kept in the queue counts' cache, so a queue page that finds
 * them there reads nothing for them; the list itself comes from the MenuCache.
 */
export class SavedQueueService {
  constructor(
    private readonly d: {
      repo: SavedQueueRepository;
      search: SearchService;
      menus: MenuCache;
      counts: CountCache;
      pageSize: number;
    },
  ) {}

  /** The queues an agent sees: the shared ones, then their own, each oldest first. */
  async menuFor(p: StaffPrincipal): Promise<SavedQueue[]> {
    const all = await this.d.menus.get('saved-queues', () => this.d.repo.all());
    return [...all.filter((q) => q.staffId === null), ...all.filter((q) => q.staffId === p.staffId)];
  }

  /** How many tickets each queue lists for this agent, under their access rules; cached like the built-in counts. */
  async counts(p: StaffPrincipal, queues: SavedQueue[]): Promise<Record<number, SavedQueueCount>> {
    // The time zone too: a saved search's days are the viewer's.
    const scope = `${p.staffId}:${p.isAdmin ? '*' : p.departmentIds.join(',')}:${p.timezone}`;
    const counted = await Promise.all(
      queues.map((q) => this.d.counts.get(`saved:${q.id}:${scope}`, () => this.d.search.count(p, readSavedSearch(q.query, p.timezone)))),
    );
    return Object.fromEntries(queues.map((q, i) => [q.id, counted[i]!]));
  }

  /** The queue of this id in the agent's menu (menuFor): opening one reads no row for it. */
  inMenu(menu: SavedQueue[], id: number): SavedQueue {
    const q = menu.find((m) => m.id === id);
    if (!q) throw queueNotFound();
    return q;
  }

  /** A queue the agent may open: shared, or their own. Another agent's is "not found", as one that never was. */
  async get(p: StaffPrincipal, id: number): Promise<SavedQueue> {
    const q = id ? await this.d.repo.get(id) : null;
    if (!q || (q.staffId !== null && q.staffId !== p.staffId)) throw queueNotFound();
    return q;
  }

  /** A queue the agent may rename or delete: their own, or a shared one for an administrator. */
  async manageable(p: StaffPrincipal, id: number): Promise<SavedQueue> {
    const q = await this.get(p, id);
    if (q.staffId === null && !p.isAdmin) throw forbidden('SAVED_QUEUE_SHARED', 'errors.saved_queue.shared_admin_only');
    return q;
  }

  /** A page of the queue's tickets, sorted by its own order unless a column is chosen. */
  async page(p: StaffPrincipal, queue: SavedQueue, params: SavedQueuePageParams): Promise<SearchListPage> {
    const { words, filters } = readSavedSearch(queue.query, p.timezone);
    const column = (SORTS as readonly string[]).includes(params.sort ?? '') ? (params.sort as Sort) : null;
    return this.d.search.list(p, {
      words, filters, sort: column ?? queue.sort, dir: params.dir === 'asc' ? 'asc' : 'desc', after: params.cursor ?? null, limit: this.d.pageSize,
    });
  }

  async save(p: StaffPrincipal, input: SaveInput): Promise<SavedQueue> {
    if (input.shared && !p.isAdmin) throw forbidden('SAVED_QUEUE_SHARED', 'errors.saved_queue.shared_admin_only');
    const name = checkName(input.name);
    // Refused here, as the search page refuses it, rather than stored as a queue that cannot be listed.
    checkFilters(input.search.filters);
    const queue: Omit<SavedQueue, 'id'> = { name, staffId: input.shared ? null : p.staffId, query: savedSearchQuery(input.search.form), sort: input.search.sort };
    const id = await refusingDuplicates(() => this.d.repo.insert(queue, nameKey(name)), NAME_TAKEN);
    return { id, ...queue };
  }

  async rename(p: StaffPrincipal, id: number, rawName: string): Promise<SavedQueue> {
    const q = await this.manageable(p, id);
    const name = checkName(rawName);
    await refusingDuplicates(() => this.d.repo.rename(q.id, name, nameKey(name)), NAME_TAKEN);
    return { ...q, name };
  }

  async delete(p: StaffPrincipal, id: number): Promise<SavedQueue> {
    const q = await this.manageable(p, id);
    await this.d.repo.delete(q.id);
    return q;
  }
}

function checkName(raw: string): string {
  const name = raw.trim().replace(/\s+/g, ' ');
  if (!name) throw new ValidationError({ name: 'validation.required' });
  if ([...name].length > NAME_MAX) throw new ValidationError({ name: msg('validation.too_long', { max: NAME_MAX }) });
  return name;
}

