import { createSearchEngine } from './search/search-port.js';
import { SearchIndex } from './search/search-index.js';
import { SearchRepository } from './search/search-repository.js';
import { SearchService } from './search/search-service.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Clock } from './db/time.js';
import type { Logger } from './logger.js';
import { ApiKeyService } from './api-keys/api-key-service.js';
import { AttachmentRepository } from './attachments/attachment-repository.js';
import { AuditRepository } from './audit/audit-repository.js';
import { EventRepository } from './history/event-repository.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { MenuCache } from './cache/menu-cache.js';
import { CountCache } from './cache/count-cache.js';
import { SavedQueueRepository } from './saved-queues/saved-queue-repository.js';
import { SavedQueueService } from './saved-queues/saved-queue-service.js';
import { CannedRepository } from './canned/canned-repository.js';
import { CannedService } from './canned/canned-service.js';
import { DepartmentRepository } from './departments/department-repository.js';
import { DepartmentService } from './departments/department-service.js';
import { DirectoryCache } from './directory/directory-cache.js';
import { DirectoryVersion } from './directory/directory-version.js';
import { DraftRepository } from './drafts/draft-repository.js';
import { DraftService } from './drafts/draft-service.js';
import { LockRepository } from './locks/lock-repository.js';
import { LockService } from './locks/lock-service.js';
import { LeaseRepository } from './jobs/lease-repository.js';
import { registerDefaultJobs } from './jobs/default-jobs.js';
import { Scheduler } from './jobs/scheduler.js';
import { BanRepository } from './mail/inbound/ban-repository.js';
import { BanService } from './mail/inbound/ban-service.js';
import { InboundRepository } from './mail/inbound/inbound-repository.js';
import { MailIntakeService } from './mail/inbound/intake-service.js';
import { QuarantineService } from './mail/inbound/quarantine.js';
import { CredentialCipher } from './mail/accounts/credential-cipher.js';
import { MailAccountRepository } from './mail/accounts/mail-account-repository.js';
import { MailAccountService } from './mail/accounts/mail-account-service.js';
import { ImapFetcher } from './mail/inbound/imap-fetcher.js';
import { ImapPoller } from './mail/inbound/imap-poller.js';
import { MailboxRepository } from './mail/mailboxes/mailbox-repository.js';
import { MailboxService } from './mail/mailboxes/mailbox-service.js';
import { MessageIdSigner } from './mail/message-id.js';
import { OutboxDelivery } from './mail/outbound/delivery.js';
import { AutoReplyBudget } from './mail/outbound/auto-reply-budget.js';
import { Notifier } from './mail/outbound/notifier.js';
import { PendingAlerts } from './mail/inbound/pending-alerts.js';
import { OutboxRepository } from './mail/outbound/outbox-repository.js';
import { RateLimiter } from './rate-limits/rate-limiter.js';
import { SessionRepository } from './sessions/session-repository.js';
import type { Secrets } from './settings/secrets.js';
import type { StaffPrincipal } from './staff/staff.js';
import { SettingsRepository } from './settings/settings-repository.js';
import { SetupService } from './setup/setup-service.js';
import { StaffRepository } from './staff/staff-repository.js';
import { PasswordHasher } from './staff/password-hasher.js';
import { AccountRecovery } from './staff/account-recovery.js';
import { PasswordLinks } from './staff/password-links.js';
import { StaffService } from './staff/staff-service.js';
import { ThreadRepository } from './threads/thread-repository.js';
import { AccessLinkService } from './tickets/access-links.js';
import { AccessTokens } from './tickets/access-token.js';
import { AssignmentRules } from './tickets/assignment-rules.js';
import { CollaboratorRepository } from './tickets/collaborator-repository.js';
import { COUNTS_TTL_MS, TicketRepository } from './tickets/ticket-repository.js';
import { TicketMerge } from './tickets/ticket-merge.js';
import { TicketRelationsRepository } from './tickets/ticket-relations.js';
import { TicketRelationsService } from './tickets/ticket-relations-service.js';
import { NonParticipantEntryService } from './tickets/non-participant-entries.js';
import { TicketService } from './tickets/ticket-service.js';
import { TicketBulk } from './tickets/ticket-bulk.js';
import { TicketRemoval } from './tickets/ticket-removal.js';
import type { Ticket } from './tickets/ticket.js';
import { DEFAULT_LANGUAGE_SETTING, loadI18n } from './i18n/load.js';
import { SiteLanguageService } from './settings/site-language.js';
import { TopicRepository } from './topics/topic-repository.js';
import { TopicService } from './topics/topic-service.js';
import { ScheduleRepository } from './schedules/schedule-repository.js';
import { ScheduleService } from './schedules/schedule-service.js';
import { UserRepository } from './users/user-repository.js';
import { UserService } from './users/user-service.js';
import { UserDirectory } from './users/user-directory.js';
import { OrganizationRepository } from './organizations/organization-repository.js';
import { OrganizationService } from './organizations/organization-service.js';

export interface ServiceDeps {
  db: Database;
  clock: Clock;
  config: Config;
  log: Logger;
  secrets: Secrets;
}

/** A remote mail server that stops answering for this long fails the fetch (or the connection test). */
const IMAP_TIMEOUT_MS = 30_000;

/** Explicit wiring, no container: reading this function tells what depends on what. */
export function createServices({ db, clock, config, log, secrets }: ServiceDeps) {
  const settings = new SettingsRepository(db);
  const audit = new AuditRepository(db, clock);
  const events = new EventRepository(db, clock);
  const directoryVersion = new DirectoryVersion(db, clock);
  const departmentRepo = new DepartmentRepository(db, clock, directoryVersion);
  const staffRepo = new StaffRepository(db, clock, directoryVersion);
  const topicRepo = new TopicRepository(db, directoryVersion);
  const outbox = new OutboxRepository(db, clock);
  const rateLimiter = new RateLimiter(db, clock);
  const loginThrottle = new LoginThrottle(db, clock, config.login);
  const mailboxRepo = new MailboxRepository(db, clock, directoryVersion);
  const banRepo = new BanRepository(db, directoryVersion);
  const orgRepo = new OrganizationRepository(db, clock, directoryVersion);
  const directory = new DirectoryCache(db, clock, directoryVersion, {
    mailboxes: () => mailboxRepo.list(), bans: () => banRepo.list(), staff: () => staffRepo.list(), defaultDepartment: () => departments.defaultDepartment(), defaultTopic: () => topics.defaultTopic(),
    defaultLanguage: () => settings.get(DEFAULT_LANGUAGE_SETTING), organizationDomains: () => orgRepo.allDomains(),
  });
  const i18n = loadI18n(config.i18n.pseudoLocale);
  /** The site's language: the administrator's choice, else the configuration's (i18n.defaultLanguage). */
  const siteLanguage = async (): Promise<string> => i18n.pick([await directory.defaultLanguage()], config.i18n.defaultLanguage);
  // One cache for both: an agent's membership changes the assignable menus, a department's name its menu.
  const menus = new MenuCache(directory);
  const departments: DepartmentService = new DepartmentService(db, departmentRepo, audit, settings, directoryVersion, menus);
  const topics: TopicService = new TopicService({ db, topics: topicRepo, departments: departmentRepo, settings, audit, version: directoryVersion, directory });
  const siteLanguageSetting = new SiteLanguageService({ db, settings, version: directoryVersion, audit, key: DEFAULT_LANGUAGE_SETTING, supported: (code) => i18n.supported(code), current: () => siteLanguage() });
  // The built-in queues' counts and the saved queues': a ticket change on this node drops both.
  const queueCounts = new CountCache(COUNTS_TTL_MS);
  const ticketRepo = new TicketRepository(db, queueCounts);
  const assignments = new AssignmentRules({ clock, tickets: ticketRepo, staff: staffRepo, audit, events });
  const sessions = new SessionRepository(db, clock);
  /** The translator for a stored language (a requester's, an agent's); null or one not offered: the site's. */
  const translatorForLanguage = async (language: string | null) => i18n.translator(i18n.pick([language], await siteLanguage()));
  const passwords = new PasswordHasher(config.passwordHashing);
  const accountRecovery = new AccountRecovery({
    db, clock, staff: staffRepo, links: new PasswordLinks(secrets.tokenKey), passwords, outbox, rateLimiter, sessions, audit,
    translatorFor: translatorForLanguage, publicUrl: config.publicUrl, helpdeskName: config.helpdeskName, mailDomain: config.mailDomain,
  });
  const staff = new StaffService(db, staffRepo, loginThrottle, audit, assignments, sessions, menus, accountRecovery, passwords);
  const userRepo = new UserRepository(db, clock);
  // Every new sender's domain is looked up: in the directory's copy, not by a statement per message.
  const users = new UserService(userRepo, (domain) => directory.organizationForDomain(domain));
  const accessTokens = new AccessTokens(secrets.tokenKey);
  // Locks and drafts resolve ticket numbers through TicketService (its access rules), which in turn checks
  // locks and discards drafts when it posts: the closures are only called after all three exist.
  const findTicket = (actor: StaffPrincipal, number: string): Promise<Ticket> => tickets.get(actor, number);
  const locks = new LockService({ db, clock, audit, events, repo: new LockRepository(db), settings: config.locks, findTicket });
  const drafts = new DraftService({ clock, repo: new DraftRepository(db), findTicket });
  const threads = new ThreadRepository(db);
  const collaborators = new CollaboratorRepository(db);
  const mailboxes = new MailboxService(db, mailboxRepo, directory, departmentRepo, topicRepo, audit, config.mailDomain, () => departments.defaultDepartment());
  const signer = new MessageIdSigner(secrets.messageIdKey, config.mailDomain);
  const notifier = new Notifier({
    outbox, threads, signer, staff: directory, mailboxes: directory,
    autoReplies: new AutoReplyBudget(rateLimiter, config.mail.autoRepliesPerHour),
    clock,
    translatorFor: translatorForLanguage,
    mailDomain: config.mailDomain, publicUrl: config.publicUrl, helpdeskName: config.helpdeskName,
    alertOnNewTicket: config.mail.alertOnNewTicket, alertOnNewMessage: config.mail.alertOnNewMessage,
  });
  const attachments = new AttachmentRepository(db);
  const relations = new TicketRelationsRepository(db);
  const searchEngine = createSearchEngine(db);
  const searchIndex = new SearchIndex(db, settings);
  const search = new SearchService({ repo: new SearchRepository(db, searchEngine), rows: (ids) => ticketRepo.listRows(ids) });
  const tickets = new TicketService({
    db, clock, users, audit, events, accessTokens, topics: topicRepo, locks, drafts, notifier, collaborators, relations, assignments, search: searchIndex,
    reopenOnReply: config.mail.reopenOnReply,
    tickets: ticketRepo,
    threads,
    attachments,
    departments: departmentRepo,
    defaultDepartment: () => directory.defaultDepartment(),
    defaultTopic: () => directory.defaultTopic(),
    departmentMembers: (id) => directory.departmentMembers(id),
    staff: staffRepo,
    publicUrl: config.publicUrl,
    pageSize: config.queuePageSize,
  });
  const inbound = new InboundRepository(db);
  const bans = new BanService(db, banRepo, directory, audit, clock);
  // Bulk actions, delete and spam (issue 10, items 6 and 9).
  const ticketRemoval = new TicketRemoval({ db, clock, tickets: ticketRepo, attachments, locks, audit, events, outbox, access: tickets, bans });
  const ticketBulk = new TicketBulk({ find: (numbers) => ticketRepo.findByNumbers(numbers), tickets, removal: ticketRemoval });
  const intake = new MailIntakeService({
    db, clock, mailboxes, inbound, bans, tickets, ticketRepo, threads, collaborators, signer,
    staff: directory, trustedAuthServers: config.mail.trustedAuthServers,
    log: log.child({ component: 'mail' }),
    mailDomain: config.mailDomain,
    describe: i18n.translator('en').t,
    offeredLanguage: (tag) => i18n.supported(tag),
  });
  const delivery = new OutboxDelivery(outbox, clock, log.child({ component: 'outbox' }), {
    outboundSmtpUrl: config.outboundSmtpUrl, helpdeskName: config.helpdeskName, mailDomain: config.mailDomain, ...config.outbox,
  }, undefined, (entryId) => attachments.withContent(entryId));
  const scheduler = new Scheduler(new LeaseRepository(db), clock, log.child({ component: 'jobs' }), {
    tickMs: config.scheduler.tickSeconds * 1000, leaseMs: config.scheduler.leaseSeconds * 1000,
  });
  // Mail accounts fetched over IMAP (issue 15, items 1 and 3): into the same intake as the SMTP listener.
  const mailAccountRepo = new MailAccountRepository(db, clock);
  const mailAccounts = new MailAccountService(db, mailAccountRepo, mailboxRepo, new CredentialCipher(secrets.credentialKey), audit);
  const imapFetcher = new ImapFetcher({ accounts: mailAccounts, mailboxes, intake, log: log.child({ component: 'imap' }), maxMessageBytes: config.smtp.maxMessageBytes, timeoutMs: IMAP_TIMEOUT_MS });
  const imapPoller = new ImapPoller({
    accounts: mailAccountRepo, fetcher: imapFetcher, leases: new LeaseRepository(db), clock, log: log.child({ component: 'imap' }), describe: i18n.translator('en').t,
    nodeId: scheduler.nodeId, tickMs: config.scheduler.tickSeconds * 1000, leaseMs: config.scheduler.leaseSeconds * 1000,
  });
  const pendingAlerts = new PendingAlerts({ db, threads, tickets: ticketRepo, notifier, outbox });
  registerDefaultJobs(scheduler, {
    delivery, pendingAlerts, outbox, inbound, audit, sessions, loginThrottle, rateLimiter, clock, outboxEveryMs: config.scheduler.tickSeconds * 1000, retention: config.retention,
  });
  // Expired locks already stop counting; the purge keeps the lock, notice and presence tables small.
  scheduler.register({ name: 'locks.purge', everyMs: 5 * 60_000, run: () => locks.purgeExpired() });
  const spamDays = config.retention.spamDays ?? 0;
  scheduler.register({ name: 'spam.purge', everyMs: 60 * 60_000, run: (signal) => (spamDays ? ticketRemoval.purgeSpam(new Date(clock.now().getTime() - spamDays * 86_400_000), 500, signal) : Promise.resolve(0)) });
  const people = new UserDirectory({
    db, users: userRepo, tickets: ticketRepo, threads, collaborators, sessions, audit, pageSize: config.queuePageSize,
    organizationIdByName: (name) => orgRepo.idByName(name),
    supportedLanguage: (code) => i18n.supported(code),
    reindexPerson: (userId) => searchIndex.person(userId),
  });
  const organizations = new OrganizationService({
    db, orgs: orgRepo, users: userRepo, tickets: ticketRepo, audit, visibility: (actor) => people.visibility(actor), pageSize: config.queuePageSize,
  });
  return {
    db, clock, config, log, secrets, settings, audit, topics, outbox, loginThrottle, rateLimiter, departments, staff, accountRecovery, users, accessTokens, tickets, locks, drafts,
    sessions, mailboxes, mailAccounts, imapFetcher, imapPoller, bans, ticketBulk, ticketRemoval, intake, delivery, pendingAlerts, scheduler, signer, i18n, siteLanguage, siteLanguageSetting, directory,
    nonParticipantEntries: new NonParticipantEntryService({ db, clock, tickets, ticketRepo, threads, users, collaborators, audit, locks, events, search: searchIndex }),
    canned: new CannedService({
      db, repo: new CannedRepository(db, clock, directoryVersion), departments: departmentRepo, audit, menus, findTicket,
      activeStaff: (id) => directory.activeStaff(id), publicUrl: config.publicUrl, attachments: new AttachmentRepository(db), maxFiles: config.attachments.maxFiles,
    }),
    // Collaborators, links and merges (issue 10, items 7 and 8).
    relations: new TicketRelationsService({ db, clock, tickets, ticketRepo, users, collaborators, relations, locks, audit, events, search: searchIndex }),
    merges: new TicketMerge({ db, clock, tickets, ticketRepo, threads, collaborators, relations, locks, notifier, audit, events, search: searchIndex }),
    quarantine: new QuarantineService(db, inbound, intake, audit),
    apiKeys: new ApiKeyService(db, clock),
    accessLinks: new AccessLinkService({ db, tickets: ticketRepo, sessions, audit, findTicket }),
    // People and organizations (issue 11, item 5).
    people,
    // Business schedules (issue 12, item 4). Nothing measures time in one yet: SLA plans (item 5) will answer here.
    schedules: new ScheduleService({ db, schedules: new ScheduleRepository(db), audit, usedBy: async () => [] }),
    organizations,
    // Ticket search (issue 11): the index is written by the ticket services above.
    searchIndex,
    search,
    savedQueues: new SavedQueueService({ repo: new SavedQueueRepository(db, clock, directoryVersion), search, menus, counts: queueCounts, pageSize: config.queuePageSize }),
    setup: new SetupService(settings, staff, departments, topics, clock, mailboxes, secrets.tokenKey, async () => {
      const it = i18n.translator(await siteLanguage());
      return { department: it.t('common.defaults.department_name'), topic: it.t('common.defaults.topic_name') };
    }),
  };
}

export type Services = ReturnType<typeof createServices>;
