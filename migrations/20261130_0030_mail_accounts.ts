import type { Knex } from 'knex';
import { createTable, timestamp } from '../src/db/schema.js';

export const config = { transaction: false };

/**
 * Mail accounts (issue 15): remote IMAP mailboxes whose mail is fetched into one of our mailboxes. Secrets are
 * stored encrypted (AES-256-GCM, src/mail/accounts/credential-cipher.ts). `auth_method` and `credential` hold a
 * password now and can hold an OAuth2 grant later without a change of shape. Which node fetches an account is
 * decided by a row in scheduler_leases named after it, not here.
 */
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'mail_accounts', (t) => {
    t.increments('id').primary();
    t.integer('mailbox_id').unsigned().notNullable().references('mailboxes.id').onDelete('CASCADE');
    t.string('host', 253).notNullable();
    t.integer('port').unsigned().notNullable();
    // implicit (IMAPS), starttls, or none (plain text, accepted for a server on this host only).
    t.string('tls_mode', 16).notNullable();
    t.string('username', 254).notNullable();
    t.string('auth_method', 16).notNullable();
    // Base64 of IV, tag and ciphertext; never shown, never logged.
    t.text('credential').notNullable();
    t.string('folder', 255).notNullable();
    t.string('after_import', 16).notNullable();
    t.string('move_to_folder', 255).nullable();
    t.integer('poll_seconds').unsigned().notNullable();
    t.boolean('enabled').notNullable();
    // Where the last fetch got to: UIDs are only comparable under the same UIDVALIDITY (RFC 9051 §2.3.1.1).
    t.bigInteger('last_uid_validity').unsigned().nullable();
    t.bigInteger('last_uid').unsigned().notNullable().defaultTo(0);
    timestamp(t, 'last_fetch_at').nullable();
    timestamp(t, 'last_success_at').nullable();
    t.text('last_error').nullable();
    timestamp(t, 'last_error_at').nullable();
    timestamp(t, 'created_at').notNullable();
    t.index(['mailbox_id']);
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
