import type { Knex } from 'knex';
import * as core from './20261122_0001_core.js';
import * as mail from './20261122_0002_mail.js';
import * as locks from './20261122_0003_locks.js';
import * as queueIndexes from './20261122_0004_queue_indexes.js';
import * as lockTokens from './20261129_0005_lock_tokens.js';
import * as entryVerification from './20261129_0006_entry_verification.js';
import * as accessLinks from './20261129_0008_access_links.js';
import * as rateLimits from './20261129_0009_rate_limits.js';
import * as departmentNames from './20261129_0011_departments.js';
import * as cacheVersions from './20261129_0012_cache_versions.js';
import * as outboxClaims from './20261129_0014_outbox_claims.js';
import * as languages from './20261129_0016_languages.js';
import * as intakeStatements from './20261129_0017_intake_statements.js';
import * as pendingAlerts from './20261130_0018_pending_alerts.js';
import * as staffSignature from './20261130_0019_staff_signature.js';
import * as alertPreferences from './20261130_0020_alert_preferences.js';
import * as ticketEvents from './20261130_0021_ticket_events.js';
import * as cannedResponses from './20261130_0022_canned_responses.js';
import * as mergeLinks from './20261130_0024_merge_links.js';
import * as neutralSystemTexts from './20261130_0025_neutral_system_texts.js';
import * as searchIndex from './20261130_0026_search_index.js';
import * as people from './20261130_0027_people.js';
import * as savedQueues from './20261130_0028_saved_queues.js';
import * as mailAccounts from './20261130_0030_mail_accounts.js';
import * as helpTopics from './20261130_0031_help_topics.js';
import * as schedules from './20261130_0032_schedules.js';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
  config?: { transaction?: boolean };
}

/** Every migration, in order. Forward-only: never edit one that has landed; add a new one at the end. */
export const migrations: Array<[name: string, migration: Migration]> = [
  ['20261122_0001_core', core],
  ['20261122_0002_mail', mail],
  ['20261122_0003_locks', locks],
  ['20261122_0004_queue_indexes', queueIndexes],
  ['20261129_0005_lock_tokens', lockTokens],
  ['20261129_0006_entry_verification', entryVerification],
  ['20261129_0008_access_links', accessLinks],
  ['20261129_0009_rate_limits', rateLimits],
  ['20261129_0011_departments', departmentNames],
  ['20261129_0012_cache_versions', cacheVersions],
  ['20261129_0014_outbox_claims', outboxClaims],
  ['20261129_0016_languages', languages],
  ['20261129_0017_intake_statements', intakeStatements],
  ['20261130_0018_pending_alerts', pendingAlerts],
  ['20261130_0019_staff_signature', staffSignature],
  ['20261130_0020_alert_preferences', alertPreferences],
  ['20261130_0021_ticket_events', ticketEvents],
  ['20261130_0022_canned_responses', cannedResponses],
  ['20261130_0024_merge_links', mergeLinks],
  ['20261130_0025_neutral_system_texts', neutralSystemTexts],
  ['20261130_0026_search_index', searchIndex],
  ['20261130_0027_people', people],
  ['20261130_0028_saved_queues', savedQueues],
  ['20261130_0030_mail_accounts', mailAccounts],
  ['20261130_0031_help_topics', helpTopics],
  ['20261130_0032_schedules', schedules],
];
