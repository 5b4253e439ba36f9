import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import { wherePrefix } from '../db/prefix.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';
import { laterWords, nameKey } from './name-key.js';

export interface User {
  id: number;
  name: string;
  email: string;
  /** The language their notices are written in; null: the site's default at sending time. */
  language: string | null;
  createdAt: Date;
}

/** A row of the user directory (and of an organization's members). */
export interface DirectoryUser {
  id: number;
  name: string;
  email: string;
  organizationId: number | null;
  organizationName: string | null;
  /** Where the next page starts: (name_key, id). */
  key: string;
}

export interface UserDetails extends User {
  organizationId: number | null;
  organizationName: string | null;
  addresses: Array<{ address: string; isPrimary: boolean }>;
}

export interface UserNote {
  id: number;
  body: string;
  staffName: string | null;
  createdAt: Date;
}

/** Where a directory page starts: after this (name_key, id). */
export interface DirectoryCursor {
  key: string;
  id: number;
}

export class UserRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  private base() {
    return this.db.q('users as u').join('user_emails as e', (j) => j.on('e.user_id', 'u.id').andOn('e.is_primary', this.db.q.raw('?', [true]))).select('u.id', 'u.name', 'u.language', 'u.created_at', 'e.address');
  }

  private map = (r: Record<string, unknown>): User => ({
    id: Number(r.id),
    name: r.name as string,
    email: r.address as string,
    language: (r.language as string | null) ?? null,
    createdAt: fromDbTimeRequired(r.created_at as string),
  });

  async get(id: number): Promise<User | null> {
    const r = await this.db.run(() => this.base().where('u.id', id).first());
    return r ? this.map(r) : null;
  }

  /**
   * `address` must already be normalised (lower-cased). `latest`: read the newest committed row even inside a
   * transaction whose MySQL snapshot predates it (a locking read; SQLite has one writer and needs none).
   */
  async findByEmail(address: string, opts: { latest?: boolean } = {}): Promise<User | null> {
    // One query for every inbound mail's sender: the address may be a secondary one, the user comes with the primary.
    const r = await this.db.run(() => {
      const query = this.base().join('user_emails as given', 'given.user_id', 'u.id').where('given.address', address);
      return (opts.latest ? query.forShare() : query).first();
    });
    return r ? this.map(r) : null;
  }

  /**
   * The new user as stored, without reading it back: every value is known here. Under a savepoint, so that a
   * UniqueViolation on the address (someone else created this user first) leaves no orphan user row and the
   * caller's transaction usable. Without it (two round trips fewer per new sender) concurrent first tickets
   * from one address failed on MariaDB (test/web/api-concurrency.test.ts).
   */
  async insert(name: string, address: string, language: string | null = null, organizationId: number | null = null): Promise<User> {
    const createdAt = toDbTime(this.clock.now());
    return this.db.savepoint(async (trx) => {
      const [id] = await trx('users').insert({ name, name_key: nameKey(name), language, organization_id: organizationId, created_at: createdAt });
      await trx('user_emails').insert({ user_id: id, address, is_primary: true });
      const words = laterWords(name);
      if (words.length) await trx('user_name_words').insert(words.map((word) => ({ word, user_id: id })));
      return { id: Number(id), name, email: address, language, createdAt: fromDbTimeRequired(createdAt) };
    });
  }

  async setLanguage(id: number, language: string | null): Promise<void> {
    await this.db.run((q) => q('users').where({ id }).update({ language }));
  }

  /**
   * One page of the directory in (name_key, id) order: everyone, or those whose name or a later word of it, one
   * of whose addresses, or whose organization's name starts with `prefix` (case-folded). Each is an index range read
   * only up to the page's end; the union is ordered and cut by the database, so paging follows its collation.
   */
  async directoryPage(prefix: string | null, after: DirectoryCursor | null, limit: number): Promise<DirectoryUser[]> {
    const ids = await this.db.run((q) => {
      const from = (query: Knex.QueryBuilder) => {
        query.whereNull('u.merged_into_id');
        if (after) query.where('u.name_key', '>=', after.key).where((w) => w.where('u.name_key', '>', after.key).orWhere('u.id', '>', after.id));
        return query.orderBy([{ column: 'u.name_key' }, { column: 'u.id' }]).limit(limit).select('u.id', 'u.name_key');
      };
      const sources = prefix === null
        ? [from(q('users as u'))]
        : [
            from(wherePrefix(this.db, q('users as u'), 'u.name_key', prefix)),
            from(wherePrefix(this.db, q('user_name_words as w').join('users as u', 'u.id', 'w.user_id'), 'w.word', prefix)),
            from(wherePrefix(this.db, q('user_emails as e').join('users as u', 'u.id', 'e.user_id'), 'e.address', prefix)),
            from(q('users as u').whereIn('u.organization_id', wherePrefix(this.db, q('organizations as o'), 'o.name_key', prefix).select('o.id'))),
          ];
      const [first, ...rest] = sources.map((s, i) => q.select('*').from(s.as(`s${i}`)));
      const union = rest.length ? first!.union(rest) : first!;
      return q.select('id').from(union.as('c')).orderBy([{ column: 'name_key' }, { column: 'id' }]).limit(limit);
    });
    return this.directoryRows(ids.map((r: Record<string, unknown>) => Number(r.id)));
  }

  /** An organization's members in (name_key, id) order, on the (organization_id, name_key, id) index. */
  async membersPage(organizationId: number, after: DirectoryCursor | null, limit: number): Promise<DirectoryUser[]> {
    const ids = await this.db.run((q) => {
      const page = q('users as u').where('u.organization_id', organizationId).whereNull('u.merged_into_id');
      if (after) page.where('u.name_key', '>=', after.key).where((w) => w.where('u.name_key', '>', after.key).orWhere('u.id', '>', after.id));
      return page.orderBy([{ column: 'u.name_key' }, { column: 'u.id' }]).limit(limit).pluck('u.id');
    });
    return this.directoryRows(ids.map(Number));
  }

  /**
   * The rows of a page chosen by id, in that order. A second query rather than a join around the page: with
   * the join, MariaDB started from user_emails and read all of it (300 ms at 60,000 users).
   */
  private async directoryRows(ids: number[]): Promise<DirectoryUser[]> {
    if (!ids.length) return [];
    const rows = await this.db.run((q) =>
      q('users as u')
        .join('user_emails as e', (j) => j.on('e.user_id', 'u.id').andOn('e.is_primary', q.raw('?', [true])))
        .leftJoin('organizations as o', 'o.id', 'u.organization_id')
        .whereIn('u.id', ids)
        .select('u.id', 'u.name', 'u.name_key', 'e.address', 'u.organization_id', 'o.name as organization_name'),
    );
    const byId = new Map(rows.map((r: Record<string, unknown>) => [Number(r.id), toDirectoryUser(r)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async details(id: number): Promise<UserDetails | null> {
    const r = await this.db.run(() => this.base().leftJoin('organizations as o', 'o.id', 'u.organization_id').select('u.organization_id', 'o.name as organization_name').where('u.id', id).first());
    if (!r) return null;
    const addresses = await this.db.run((q) => q('user_emails').where('user_id', id).orderBy([{ column: 'is_primary', order: 'desc' }, { column: 'address' }]).select('address', 'is_primary'));
    return {
      ...this.map(r),
      organizationId: r.organization_id === null ? null : Number(r.organization_id),
      organizationName: (r.organization_name as string | null) ?? null,
      addresses: addresses.map((a: Record<string, unknown>) => ({ address: a.address as string, isPrimary: Boolean(a.is_primary) })),
    };
  }

  /** The user a merged user went into (the survivor's id), or null for a user not merged (or unknown). */
  async mergedInto(id: number): Promise<number | null> {
    const r = await this.db.run((q) => q('users').where('id', id).first('merged_into_id'));
    return r?.merged_into_id ? Number(r.merged_into_id) : null;
  }

  async update(id: number, p: { name: string; language: string | null; organizationId: number | null }): Promise<void> {
    await this.db.run(async (q) => {
      await q('users').where({ id }).update({ name: p.name, name_key: nameKey(p.name), language: p.language, organization_id: p.organizationId });
      await q('user_name_words').where('user_id', id).delete();
      const words = laterWords(p.name);
      if (words.length) await q('user_name_words').insert(words.map((word) => ({ word, user_id: id })));
    });
  }

  async notes(userId: number): Promise<UserNote[]> {
    const rows = await this.db.run((q) =>
      q('user_notes as n').leftJoin('staff as s', 's.id', 'n.staff_id').where('n.user_id', userId).orderBy('n.id', 'desc').select('n.id', 'n.body', 'n.created_at', 's.name as staff_name'),
    );
    return rows.map((r: Record<string, unknown>) => ({ id: Number(r.id), body: r.body as string, staffName: (r.staff_name as string | null) ?? null, createdAt: fromDbTimeRequired(r.created_at as string) }));
  }

  async addNote(userId: number, staffId: number, body: string): Promise<void> {
    await this.db.run((q) => q('user_notes').insert({ user_id: userId, staff_id: staffId, body, created_at: toDbTime(this.clock.now()) }));
  }

  async noteCount(userId: number): Promise<number> {
    const r = await this.db.run((q) => q('user_notes').where('user_id', userId).count({ n: '*' }).first());
    return Number(r?.n ?? 0);
  }

  /**
   * A user merge, in the caller's transaction: the merged user's addresses (secondary now, so intake's lookup
   * by address finds the survivor), notes and earlier merges go to the survivor; its row stays as a pointer.
   */
  async mergeInto(fromUserId: number, toUserId: number): Promise<void> {
    await this.db.run(async (q) => {
      await q('user_emails').where('user_id', fromUserId).update({ user_id: toUserId, is_primary: false });
      await q('user_notes').where('user_id', fromUserId).update({ user_id: toUserId });
      await q('users').where('merged_into_id', fromUserId).update({ merged_into_id: toUserId });
      await q('users').where('id', fromUserId).update({ merged_into_id: toUserId });
    });
  }

  /** Users of an organization lose it (before the organization is deleted). */
  async leaveOrganization(organizationId: number): Promise<void> {
    await this.db.run((q) => q('users').where('organization_id', organizationId).update({ organization_id: null }));
  }
}

const toDirectoryUser = (r: Record<string, unknown>): DirectoryUser => ({
  id: Number(r.id),
  name: r.name as string,
  email: r.address as string,
  organizationId: r.organization_id === null ? null : Number(r.organization_id),
  organizationName: (r.organization_name as string | null) ?? null,
  key: r.name_key as string,
});
