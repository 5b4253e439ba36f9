import { randomBytes } from 'node:crypto';
import type { SettingsRepository } from './settings-repository.js';

/** Keys generated on first run and kept in the database, so every node signs and verifies alike. Never logged. */
export interface Secrets {
  /** CSRF tokens. */
  csrfKey: Buffer;
  /** Signed client access links in e-mails. */
  tokenKey: Buffer;
  /** HMAC in our outgoing Message-IDs. */
  messageIdKey: Buffer;
  /** AES-256-GCM key for the credentials of remote mail accounts (passwords, later OAuth2 grants). */
  credentialKey: Buffer;
}

/**
 * `credentialKey` (config, base64), when set, seals mail account passwords instead of the generated one: a key
 * kept beside the ciphertext protects it from nothing but a careless SELECT, while one in the environment keeps a
 * stolen database dump's passwords closed.
 */
export async function loadSecrets(settings: SettingsRepository, configured: { credentialKey?: string } = {}): Promise<Secrets> {
  const get = async (name: string) =>
    Buffer.from(await settings.getOrInsert(`secret.${name}`, () => randomBytes(32).toString('base64')), 'base64');
  const credentialKey = configured.credentialKey ? Buffer.from(configured.credentialKey, 'base64') : await get('credential');
  return { csrfKey: await get('csrf'), tokenKey: await get('token'), messageIdKey: await get('message_id'), credentialKey };
}
