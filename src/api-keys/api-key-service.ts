import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Database } from '../db/database.js';
import { fromDbTime, fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';
import { AppError, ValidationError } from '../errors.js';
import { msg } from '../i18n/message.js';
import { DIRECTORY_REFRESH_MS } from '../directory/directory-cache.js';

export interface ApiKey {
  id: number;
  name: string;
  keyPrefix: string;
  allowedIp: string | null;
  isActive: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface ApiPrincipal {
  kind: 'api';
  keyId: number;
  name: string;
}

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * How long a node trusts its copy of an active key, as long as the directory's invalidation delay: a key
 * deactivated on one node is refused by every node at most this long after (at once on that node). Keys that
 * are unknown or inactive are never kept, so a new or re-activated key works at once and a guessed key costs a
 * read every time, as before.
 */
export const API_KEY_REFRESH_MS = DIRECTORY_REFRESH_MS;

interface ActiveKey {
  id: number;
  name: string;
  allowedIp: string | null;
  /** When this node read the row (epoch ms). */
  readAt: number;
}

/** Strips the IPv4-mapped IPv6 prefix so that a key bound to 10.0.0.5 matches ::ffff:10.0.0.5. */
const normaliseIp = (ip: string) => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

const map = (r: Record<string, unknown>): ApiKey => ({
  id: Number(r.id),
  name: r.name as string,
  keyPrefix: r.key_prefix as string,
  allowedIp: (r.allowed_ip as string | null) ?? null,
  isActive: Boolean(r.is_active),
  createdAt: fromDbTimeRequired(r.created_at as string),
  lastUsedAt: fromDbTime(r.last_used_at as string | null),
});

export class ApiKeyService {
  /** When this process last wrote each key's last_used_at (epoch ms). */
  private readonly touchedAt = new Map<number, number>();
  /** Active keys by hash, read at most once per API_KEY_REFRESH_MS: an integration's requests cost no read each. */
  private readonly active = new Map<string, ActiveKey>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Creates a key and returns it in clear once; only its hash is stored. */
  async create(input: { name: string; allowedIp?: string | null }): Promise<{ key: string; apiKey: ApiKey }> {
    const allowedIp = input.allowedIp ? normaliseIp(input.allowedIp.trim()) : null;
    if (allowedIp && !isIP(allowedIp)) throw new ValidationError({ ip: msg('admin.api_keys.errors.not_an_ip', { value: input.allowedIp ?? '' }) });
    const name = input.name.trim() || 'API key';
    const key = `sb_${randomBytes(24).toString('base64url')}`;
    const [id] = await this.db.run((q) =>
      q('api_keys').insert({ name: name.slice(0, 120), key_hash: hash(key), key_prefix: key.slice(0, 10), allowed_ip: allowedIp, is_active: true, created_at: toDbTime(this.clock.now()) }),
    );
    const row = await this.db.run((q) => q('api_keys').where({ id }).first());
    return { key, apiKey: map(row) };
  }

  async list(): Promise<ApiKey[]> {
    return (await this.db.run((q) => q('api_keys').orderBy('id'))).map(map);
  }

  async setActive(id: number, isActive: boolean): Promise<void> {
    await this.db.run((q) => q('api_keys').where({ id }).update({ is_active: isActive }));
    this.active.clear();
  }

  /** 401 for a missing or unknown key, 403 for a known key used from an address it is not bound to. */
  async authenticate(key: string | undefined, ip: string): Promise<ApiPrincipal> {
    if (!key) throw new AppError('API_KEY_MISSING', 'unauthorized', 'admin.api_keys.errors.missing');
    const k = await this.activeKey(hash(key));
    if (!k) throw new AppError('API_KEY_INVALID', 'unauthorized', 'admin.api_keys.errors.invalid');
    if (k.allowedIp && k.allowedIp !== normaliseIp(ip)) throw new AppError('API_KEY_IP_FORBIDDEN', 'forbidden', 'admin.api_keys.errors.ip_forbidden');
    await this.touch(k.id);
    return { kind: 'api', keyId: k.id, name: k.name };
  }

  private async activeKey(keyHash: string): Promise<ActiveKey | null> {
    const now = this.clock.now().getTime();
    const kept = this.active.get(keyHash);
    // A clock that went back counts as stale: never trust a copy for longer than the delay.
    if (kept && now - kept.readAt < API_KEY_REFRESH_MS && now >= kept.readAt) return kept;
    const r = await this.db.run((q) => q('api_keys').where({ key_hash: keyHash }).first('id', 'name', 'allowed_ip', 'is_active'));
    if (!r || !r.is_active) {
      this.active.delete(keyHash);
      return null;
    }
    const fresh: ActiveKey = { id: Number(r.id), name: r.name as string, allowedIp: (r.allowed_ip as string | null) ?? null, readAt: now };
    this.active.set(keyHash, fresh);
    return fresh;
  }

  /**
   * "Last used" is for an administrator deciding whether a key is still needed: to the minute is enough, so
   * an integration sending many requests costs one write a minute, not one per request.
   */
  private async touch(id: number): Promise<void> {
    const now = this.clock.now();
    const last = this.touchedAt.get(id);
    if (last !== undefined && now.getTime() - last < LAST_USED_RESOLUTION_MS && now.getTime() >= last) return;
    await this.db.run((q) => q('api_keys').where({ id }).update({ last_used_at: toDbTime(now) }));
    this.touchedAt.set(id, now.getTime());
  }
}
