import type { Knex } from 'knex';
import { createTable, longBlob, longText, timestamp } from '../src/db/schema.js';

export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'settings', (t) => {
    t.string('key', 100).primary();
    t.text('value').notNullable();
  });

  await createTable(knex, 'departments', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.string('signature', 2000).notNullable().defaultTo('');
    timestamp(t, 'created_at').notNullable();
  });

  await createTable(knex, 'staff', (t) => {
    t.increments('id');
    t.string('username', 64).notNullable().unique();
    t.string('email', 254).notNullable().unique();
    t.string('name', 120).notNullable();
    t.string('password_hash', 255).notNullable();
    t.boolean('is_admin').notNullable().defaultTo(false);
    t.boolean('is_active').notNullable().defaultTo(true);
    t.string('timezone', 64).notNullable().defaultTo('UTC');
    timestamp(t, 'created_at').notNullable();
    timestamp(t, 'last_login_at');
  });

  await createTable(knex, 'staff_departments', (t) => {
    t.integer('staff_id').unsigned().notNullable().references('staff.id').onDelete('CASCADE');
    t.integer('department_id').unsigned().notNullable().references('departments.id').onDelete('CASCADE');
    t.boolean('is_manager').notNullable().defaultTo(false);
    t.primary(['staff_id', 'department_id']);
    t.index(['department_id']);
  });

  await createTable(knex, 'organizations', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    timestamp(t, 'created_at').notNullable();
  });

  await createTable(knex, 'users', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable();
    t.integer('organization_id').unsigned().references('organizations.id').onDelete('SET NULL');
    timestamp(t, 'created_at').notNullable();
  });

  // Addresses are stored lower-cased: MySQL collations fold case, SQLite's `=` does not (DESIGN.md §9 "case").
  await createTable(knex, 'user_emails', (t) => {
    t.increments('id');
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    t.string('address', 254).notNullable().unique();
    t.boolean('is_primary').notNullable().defaultTo(true);
    t.index(['user_id']);
  });

  await createTable(knex, 'help_topics', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.integer('department_id').unsigned().notNullable().references('departments.id');
    t.tinyint('default_priority').notNullable().defaultTo(2);
    t.boolean('is_public').notNullable().defaultTo(true);
    t.boolean('is_active').notNullable().defaultTo(true);
  });

  await createTable(knex, 'tickets', (t) => {
    t.increments('id');
    t.string('number', 16).notNullable().unique();
    t.string('subject', 255).notNullable();
    t.integer('user_id').unsigned().notNullable().references('users.id');
    t.integer('department_id').unsigned().notNullable().references('departments.id');
    t.integer('topic_id').unsigned().references('help_topics.id').onDelete('SET NULL');
    t.integer('assignee_id').unsigned().references('staff.id').onDelete('SET NULL');
    t.string('status', 16).notNullable();
    t.boolean('is_answered').notNullable().defaultTo(false);
    t.tinyint('priority').notNullable();
    t.string('source', 16).notNullable();
    timestamp(t, 'created_at').notNullable();
    timestamp(t, 'updated_at').notNullable();
    timestamp(t, 'closed_at');
    // Queue pages filter by status (+ answered, department, assignee) and page by (updated_at, id).
    t.index(['status', 'is_answered', 'updated_at', 'id'], 'tickets_queue_idx');
    t.index(['status', 'department_id', 'updated_at', 'id'], 'tickets_queue_dept_idx');
    t.index(['department_id', 'status', 'is_answered', 'assignee_id'], 'tickets_counts_idx');
    t.index(['assignee_id', 'status', 'updated_at', 'id'], 'tickets_assignee_idx');
    t.index(['user_id', 'updated_at'], 'tickets_user_idx');
  });

  await createTable(knex, 'thread_entries', (t) => {
    t.increments('id');
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    t.string('type', 16).notNullable();
    t.integer('staff_id').unsigned().references('staff.id').onDelete('SET NULL');
    t.integer('user_id').unsigned().references('users.id').onDelete('SET NULL');
    t.string('author_name', 120).notNullable();
    longText(t, 'body_text').notNullable();
    longText(t, 'body_html');
    t.string('source', 16).notNullable();
    timestamp(t, 'created_at').notNullable();
    t.index(['ticket_id', 'id']);
  });

  // Blobs live in the database, keyed by content hash, so every node sees every attachment without a
  // shared file system and a backup of the database is a backup of everything.
  await createTable(knex, 'attachment_blobs', (t) => {
    t.string('sha256', 64).primary();
    t.bigInteger('size').notNullable();
    longBlob(knex, t, 'data').notNullable();
  });

  await createTable(knex, 'attachments', (t) => {
    t.increments('id');
    t.integer('entry_id').unsigned().notNullable().references('thread_entries.id').onDelete('CASCADE');
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    t.string('filename', 255).notNullable();
    t.string('content_type', 255).notNullable();
    t.bigInteger('size').notNullable();
    t.string('sha256', 64).notNullable().references('attachment_blobs.sha256');
    t.string('content_id', 255);
    t.boolean('is_inline').notNullable().defaultTo(false);
    t.index(['entry_id']);
    t.index(['ticket_id']);
  });

  await createTable(knex, 'outbox', (t) => {
    t.increments('id');
    t.integer('ticket_id').unsigned().references('tickets.id').onDelete('SET NULL');
    t.integer('entry_id').unsigned().references('thread_entries.id').onDelete('SET NULL');
    t.string('kind', 32).notNullable();
    t.text('to_addresses').notNullable();
    t.string('subject', 998).notNullable();
    longText(t, 'body_text').notNullable();
    longText(t, 'body_html');
    t.text('headers').notNullable();
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    timestamp(t, 'next_attempt_at').notNullable();
    t.string('claim_token', 64);
    timestamp(t, 'claimed_at');
    t.text('last_error');
    timestamp(t, 'created_at').notNullable();
    timestamp(t, 'sent_at');
    t.index(['status', 'next_attempt_at']);
  });

  await createTable(knex, 'sessions', (t) => {
    t.string('id_hash', 64).primary();
    t.string('kind', 16).notNullable();
    t.integer('staff_id').unsigned().references('staff.id').onDelete('CASCADE');
    t.integer('user_id').unsigned().references('users.id').onDelete('CASCADE');
    t.integer('ticket_id').unsigned().references('tickets.id').onDelete('CASCADE');
    timestamp(t, 'created_at').notNullable();
    timestamp(t, 'expires_at').notNullable();
    t.index(['expires_at']);
  });

  await createTable(knex, 'login_failures', (t) => {
    t.increments('id');
    t.string('key_hash', 64).notNullable();
    timestamp(t, 'created_at').notNullable();
    t.index(['key_hash', 'created_at']);
  });

  await createTable(knex, 'api_keys', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable();
    t.string('key_hash', 64).notNullable().unique();
    t.string('key_prefix', 12).notNullable();
    t.string('allowed_ip', 64);
    t.boolean('is_active').notNullable().defaultTo(true);
    timestamp(t, 'created_at').notNullable();
    timestamp(t, 'last_used_at');
  });

  await createTable(knex, 'audit_log', (t) => {
    t.increments('id');
    t.integer('staff_id').unsigned().references('staff.id').onDelete('SET NULL');
    t.string('action', 64).notNullable();
    t.string('object_type', 32).notNullable();
    t.string('object_id', 64).notNullable();
    t.text('details').notNullable();
    t.string('ip', 64);
    timestamp(t, 'created_at').notNullable();
    t.index(['object_type', 'object_id']);
    t.index(['created_at']);
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
