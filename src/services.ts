import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Clock } from './db/time.js';
import type { Logger } from './logger.js';
import { ApiKeyService } from './api-keys/api-key-service.js';
import { AttachmentRepository } from './attachments/attachment-repository.js';
import { AuditRepository } from './audit/audit-repository.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { DepartmentRepository } from './departments/department-repository.js';
import { DepartmentService } from './departments/department-service.js';
import { OutboxRepository } from './mail/outbound/outbox-repository.js';
import { SessionRepository } from './sessions/session-repository.js';
import type { Secrets } from './settings/secrets.js';
import { SettingsRepository } from './settings/settings-repository.js';
import { SetupService } from './setup/setup-service.js';
import { StaffRepository } from './staff/staff-repository.js';
import { StaffService } from './staff/staff-service.js';
import { ThreadRepository } from './threads/thread-repository.js';
import { AccessTokens } from './tickets/access-token.js';
import { TicketRepository } from './tickets/ticket-repository.js';
import { TicketService } from './tickets/ticket-service.js';
import { TopicRepository } from './topics/topic-repository.js';
import { UserRepository } from './users/user-repository.js';
import { UserService } from './users/user-service.js';

export interface ServiceDeps {
  db: Database;
  clock: Clock;
  config: Config;
  log: Logger;
  secrets: Secrets;
}

/** Explicit wiring, no container: reading this function tells what depends on what. */
export function createServices({ db, clock, config, log, secrets }: ServiceDeps) {
  const settings = new SettingsRepository(db);
  const audit = new AuditRepository(db, clock);
  const departmentRepo = new DepartmentRepository(db, clock);
  const staffRepo = new StaffRepository(db, clock);
  const topics = new TopicRepository(db);
  const outbox = new OutboxRepository(db, clock);
  const loginThrottle = new LoginThrottle(db, clock, config.login.maxFailures, config.login.windowMinutes);
  const departments = new DepartmentService(db, departmentRepo, audit);
  const staff = new StaffService(db, staffRepo, loginThrottle, audit);
  const users = new UserService(db, new UserRepository(db, clock));
  const accessTokens = new AccessTokens(secrets.tokenKey);
  const tickets = new TicketService({
    db, clock, users, outbox, audit, accessTokens, topics,
    tickets: new TicketRepository(db),
    threads: new ThreadRepository(db),
    attachments: new AttachmentRepository(db),
    departments: departmentRepo,
    staff: staffRepo,
    publicUrl: config.publicUrl,
    helpdeskName: config.helpdeskName,
    pageSize: config.queuePageSize,
  });
  return {
    db, clock, config, log, secrets, settings, audit, topics, outbox, loginThrottle, departments, staff, users, accessTokens, tickets,
    sessions: new SessionRepository(db, clock),
    apiKeys: new ApiKeyService(db, clock),
    setup: new SetupService(settings, staff, departments, topics, clock),
  };
}

export type Services = ReturnType<typeof createServices>;
