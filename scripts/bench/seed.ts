import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { toDbTime } from '../../src/db/time.js';
import { entryTokens, ticketTokens } from '../../src/search/search-index.js';
import { laterWords, nameKey } from '../../src/users/name-key.js';
import { parseBenchArgs, prng, searchIndexBytes } from './common.js';
import { LANGUAGES, makeWriter, type Language } from './vocabulary.js';

/**
 * Benchmark data generator: N tickets with five thread entries each on average, in several languages
 * (vocabulary.ts), requesters, collaborators, attachment names, departments, topics and a few agents, and the
 * search index's rows for all of them, written with multi-row inserts in transactions. Bulk SQL is acceptable here (and only here): going
 * through the services would take an hour for 100,000 tickets, and the product's rules are not under test.
 * Deterministic for a given seed, so two runs measure the same data.
 */
export interface SeedOptions {
  tickets?: number;
  /** Thread entries per ticket on average (1 to twice this less one): 5 gives the issue's 5,000,000 at 1,000,000. */
  entriesPerTicket?: number;
  /** PRNG seed. */
  seed?: number;
  /** Newest time in the data; tickets spread over the year before it. */
  now?: Date;
  /** Rows per INSERT: MySQL allows 65,535 placeholders per statement, tickets have 12 columns. */
  batchRows?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SeedResult {
  tickets: number;
  entries: number;
  attachments: number;
  users: number;
  departments: Array<{ id: number; name: string }>;
  agents: number[];
  byStatus: Record<string, number>;
  openUnanswered: number;
  ms: number;
  /** A ticket and its requester's address, for pages that need one. */
  sample: { number: string; email: string; departmentId: number };
}

export const DEPARTMENTS = ['Support', 'Billing', 'Sales', 'Technical', 'Returns', 'Accounts'] as const;
const DEPARTMENT_WEIGHTS = [40, 20, 10, 15, 10, 5];

const TOPICS: Array<[string, string, number]> = [
  ['Account access', 'Support', 3],
  ['Invoices and payments', 'Billing', 2],
  ['Pricing and quotes', 'Sales', 2],
  ['Bug report', 'Technical', 3],
  ['Return or exchange', 'Returns', 2],
  ['Change account owner', 'Accounts', 2],
];

const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com', 'corp.example'];

/** English sentences for the long threads of seedBusyTickets, whose text no benchmark searches. */
const SENTENCES = [
  'Hello, I hope you can help me with this.',
  'Since yesterday the page shows an error and nothing happens when I click the button.',
  'I have attached a screenshot of what I see.',
  'Could you please look into this as soon as possible? Our team depends on it.',
  'I already tried clearing the cache and signing in from another browser.',
  'The order number is in the subject line.',
  'We were charged twice this month and would like one payment refunded.',
  'Thanks for the quick answer earlier — unfortunately the problem came back.',
  'Is there a way to change this setting for every user at once?',
  'Please let me know if you need any more details from our side.',
  'Grüße aus Berlin, und danke im Voraus. 🙂',
];
/** Plain multi-row VALUES: knex compiles SQLite multi-row inserts to UNION ALL, capped at 500 terms. */
async function insertValues(db: Database, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  if (!rows.length) return;
  const cols = Object.keys(rows[0]!);
  const tuple = `(${cols.map(() => '?').join(', ')})`;
  const values: unknown[] = [];
  for (const r of rows) for (const c of cols) values.push(typeof r[c] === 'boolean' ? Number(r[c]) : r[c]);
  await db.q.raw(`insert into \`${table}\` (${cols.map((c) => `\`${c}\``).join(', ')}) values ${rows.map(() => tuple).join(', ')}`, values as never[]);
}

/**
 * Gives `count` open tickets a long life: `entries` thread entries and `events` history events each (issue 10's
 * figure: the ticket page with 200 events and 100 entries). Returns their numbers.
 */
export async function seedBusyTickets(db: Database, opts: { count: number; entries: number; events: number; now?: Date }): Promise<string[]> {
  const rows = await db.q('tickets as t').join('users as u', 'u.id', 't.user_id').where('t.status', 'open').orderBy('t.id').limit(opts.count).select('t.id', 't.number', 't.user_id', 'u.name', 't.created_at');
  const staff = await db.q('staff').orderBy('id').first('id', 'name');
  const start = (opts.now ?? new Date()).getTime() - (opts.entries + opts.events) * 60_000;
  for (const r of rows as Array<{ id: number; number: string; user_id: number; name: string }>) {
    const ticketId = Number(r.id);
    const entries = Array.from({ length: opts.entries }, (_, i) => {
      const message = i % 2 === 0;
      return {
        ticket_id: ticketId, type: message ? 'message' : i % 6 === 1 ? 'note' : 'response', staff_id: message ? null : (staff?.id ?? null), user_id: message ? r.user_id : null,
        author_name: message ? r.name : (staff?.name ?? 'Agent'), body_text: `${pick(SENTENCES, i)} ${pick(SENTENCES, i + 7)}`, body_html: null, source: 'web',
        created_at: toDbTime(new Date(start + i * 3 * 60_000)),
      };
    });
    const kinds = ['status', 'priority', 'department', 'assignee'] as const;
    const events = Array.from({ length: opts.events }, (_, i) => ({
      ticket_id: ticketId, actor: 'staff', staff_id: staff?.id ?? null, actor_name: staff?.name ?? 'Agent', kind: kinds[i % kinds.length],
      data: JSON.stringify(i % 4 === 0 ? { from: 'open', to: 'resolved' } : i % 4 === 1 ? { from: 2, to: 3 } : { from: 1, to: 2, fromName: 'Support', toName: 'Billing' }),
      created_at: toDbTime(new Date(start + i * 90_000 + 30_000)),
    }));
    await db.transaction(async () => {
      for (let i = 0; i < entries.length; i += 200) await insertValues(db, 'thread_entries', entries.slice(i, i + 200));
      for (let i = 0; i < events.length; i += 200) await insertValues(db, 'ticket_events', events.slice(i, i + 200));
    });
  }
  return rows.map((r: { number: string }) => r.number);
}

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;

export async function seedTickets(db: Database, opts: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const total = opts.tickets ?? 100_000;
  const batch = opts.batchRows ?? 1000;
  const perTicket = opts.entriesPerTicket ?? 5;
  const rnd = prng(opts.seed ?? 42);
  const write = makeWriter(rnd);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const weighted = (weights: number[]): number => {
    let r = rnd() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < weights.length; i++) if ((r -= weights[i]!) < 0) return i;
    return weights.length - 1;
  };
  const now = opts.now ?? new Date();
  const yearMs = 365 * 24 * 3600_000;
  const at = (ms: number) => toDbTime(new Date(Math.min(ms, now.getTime())));

  const insertRows = (table: string, rows: Array<Record<string, unknown>>) => insertValues(db, table, rows);
  const insertChunks = async (table: string, rows: Array<Record<string, unknown>>) => {
    for (let i = 0; i < rows.length; i += batch) await insertRows(table, rows.slice(i, i + batch));
  };
  const nextId = async (table: string) => Number((await db.q(table).max({ m: 'id' }).first())?.m ?? 0) + 1;

  // Reference data, reused if a previous run created it.
  const departments: Array<{ id: number; name: string }> = [];
  const agentsByDept = new Map<number, number[]>();
  const agents: number[] = [];
  const agentNames = new Map<number, string>();
  await db.transaction(async () => {
    for (const name of DEPARTMENTS) {
      let row = await db.q('departments').where({ name }).first('id');
      if (!row) {
        await db.q('departments').insert({ name, signature: `— The ${name} team`, created_at: at(now.getTime() - yearMs) });
        row = await db.q('departments').where({ name }).first('id');
      }
      departments.push({ id: Number(row.id), name });
      agentsByDept.set(Number(row.id), []);
    }
    for (const [name, dept, priority] of TOPICS) {
      if (await db.q('help_topics').where({ name }).first('id')) continue;
      await db.q('help_topics').insert({ name, department_id: departments.find((d) => d.name === dept)!.id, default_priority: priority, is_public: true, is_active: true });
    }
    // Assignees only: the hash is not a valid argon2 string, so these accounts cannot sign in.
    for (let i = 0; i < 12; i++) {
      const username = `bench.agent${i + 1}`;
      let row = await db.q('staff').where({ username }).first('id');
      if (!row) {
        await db.q('staff').insert({
          username, email: `${username}@staff.example`, name: write.name(LANGUAGES[0]!), password_hash: '!bench-no-login',
          is_admin: false, is_active: true, timezone: 'UTC', created_at: at(now.getTime() - yearMs),
        });
        row = await db.q('staff').where({ username }).first('id');
        // Each agent works one or two departments.
        const home = departments[i % departments.length]!.id;
        const second = departments[(i * 7 + 3) % departments.length]!.id;
        await db.q('staff_departments').insert([...new Set([home, second])].map((d) => ({ staff_id: Number(row.id), department_id: d, is_manager: false })));
      }
      agents.push(Number(row.id));
    }
    for (const r of await db.q('staff').whereIn('id', agents).select('id', 'name')) agentNames.set(Number(r.id), r.name as string);
    for (const r of await db.q('staff_departments').whereIn('staff_id', agents).select('staff_id', 'department_id')) {
      agentsByDept.get(Number(r.department_id))?.push(Number(r.staff_id));
    }
  });

  // Requesters: about three tickets each on average, some with many; each writes in one language.
  const userCount = Math.max(1, Math.ceil(total / 3));
  const firstUser = await nextId('users');
  const userNames: string[] = [];
  const userEmails: string[] = [];
  const userLanguages: Language[] = [];
  for (let i = 0; i < userCount; i += batch) {
    const users: Array<Record<string, unknown>> = [];
    const emails: Array<Record<string, unknown>> = [];
    const words: Array<Record<string, unknown>> = [];
    for (let j = i; j < Math.min(userCount, i + batch); j++) {
      const id = firstUser + j;
      const language = write.language();
      const name = write.name(language);
      // Addresses are ASCII: accents folded away, other scripts left to the number.
      const local = name.normalize('NFKD').replace(/[^a-zA-Z ]/g, '').trim().replace(/ +/g, '.').toLowerCase();
      const email = `${local ? `${local}.` : 'user.'}${id}@${pick(DOMAINS)}`;
      userNames.push(name);
      userEmails.push(email);
      userLanguages.push(language);
      users.push({ id, name, name_key: nameKey(name), organization_id: null, created_at: at(now.getTime() - yearMs - rnd() * yearMs) });
      emails.push({ user_id: id, address: email, is_primary: true });
      for (const word of laterWords(name)) words.push({ word, user_id: id });
    }
    await db.transaction(async () => {
      await insertRows('users', users);
      await insertRows('user_emails', emails);
      if (words.length) await insertRows('user_name_words', words);
    });
  }

  // Attachments share one blob: search needs their names, not their bytes.
  const blob = Buffer.from('benchmark attachment\n');
  const sha256 = createHash('sha256').update(blob).digest('hex');
  if (!(await db.q('attachment_blobs').where({ sha256 }).first('sha256'))) await db.q('attachment_blobs').insert({ sha256, size: blob.length, data: blob });

  const numbers = new Set<string>((await db.q('tickets').select('number')).map((r: { number: string }) => r.number));
  let ticketId = await nextId('tickets');
  let entryId = await nextId('thread_entries');
  const byStatus: Record<string, number> = { open: 0, resolved: 0, closed: 0 };
  let openUnanswered = 0;
  let entryTotal = 0;
  let fileTotal = 0;
  // Preferably an open ticket with a thread of some length; any ticket if there is none.
  let sample: (SeedResult['sample'] & { good: boolean }) | null = null;
  // A transaction per chunk keeps each one small (MySQL undo, SQLite WAL) while amortising commits.
  const chunk = batch * 5;
  for (let start = 0; start < total; start += chunk) {
    const tickets: Array<Record<string, unknown>> = [];
    const entries: Array<Record<string, unknown>> = [];
    const files: Array<Record<string, unknown>> = [];
    const collaborators: Array<Record<string, unknown>> = [];
    for (let k = start; k < Math.min(total, start + chunk); k++) {
      const id = ticketId++;
      let number: string;
      do number = String(10_000_000 + Math.floor(rnd() * 90_000_000));
      while (numbers.has(number));
      numbers.add(number);
      const userIndex = Math.floor(rnd() ** 1.5 * userCount);
      const userId = firstUser + userIndex;
      const language = userLanguages[userIndex]!;
      const dept = departments[weighted(DEPARTMENT_WEIGHTS)]!.id;
      const statusRoll = rnd();
      const status = statusRoll < 0.75 ? 'closed' : statusRoll < 0.82 ? 'resolved' : 'open';
      // Open tickets are mostly recent; closed ones spread over the whole year.
      const age = status === 'open' ? rnd() ** 2 * yearMs : rnd() * yearMs;
      const createdMs = now.getTime() - age;
      // 1 to 2m-1 entries: m on average.
      const entryCount = 1 + Math.floor(rnd() * (2 * perTicket - 1));
      let t = createdMs;
      let answered = false;
      let lastPublicByStaff = false;
      const deptAgents = agentsByDept.get(dept)!;
      const assignee = deptAgents.length && (status !== 'open' || rnd() < 0.7) ? pick(deptAgents) : null;
      for (let e = 0; e < entryCount; e++) {
        const type = e === 0 ? 'message' : pick(['response', 'response', 'message', 'note', 'response'] as const);
        if (e > 0) t += 60_000 + rnd() ** 3 * 3 * 24 * 3600_000;
        const staffId = type === 'message' ? null : (assignee ?? pick(agents));
        const body = write.body(language, type === 'message' ? 1 + Math.floor(rnd() * 3) : 1 + Math.floor(rnd() * 2));
        const eid = entryId++;
        const names = type === 'message' && rnd() < 0.08 ? [write.fileName(language)] : [];
        entries.push({
          id: eid, ticket_id: id, type, staff_id: staffId, user_id: type === 'message' ? userId : null,
          author_name: staffId === null ? userNames[userIndex]! : agentNames.get(staffId)!, body_text: body, body_html: null,
          source: type === 'message' ? (e === 0 ? 'email' : pick(['email', 'web'])) : 'web', created_at: at(t),
          // Indexed as the product writes an entry: the same tokeniser, in the same INSERT.
          search_tokens: entryTokens({ text: body, files: names.map((filename) => ({ filename })) }),
        });
        for (const filename of names) files.push({ entry_id: eid, ticket_id: id, filename, content_type: 'application/octet-stream', size: blob.length, sha256, content_id: null, is_inline: false });
        if (type !== 'note') lastPublicByStaff = type === 'response';
        if (type === 'response') answered = true;
      }
      answered = status === 'open' ? lastPublicByStaff : answered;
      const updatedMs = Math.min(t, now.getTime());
      byStatus[status]!++;
      if (status === 'open' && !answered) openUnanswered++;
      const subject = `${write.subject(language)}${rnd() < 0.3 ? ` #${Math.floor(rnd() * 90000) + 10000}` : ''}`;
      const people = [userIndex];
      if (rnd() < 0.08) {
        const other = Math.floor(rnd() * userCount);
        if (other !== userIndex) {
          people.push(other);
          collaborators.push({ ticket_id: id, user_id: firstUser + other, created_at: at(createdMs) });
        }
      }
      tickets.push({
        id, number, subject,
        user_id: userId, department_id: dept, topic_id: null, assignee_id: assignee, status, is_answered: answered,
        priority: 1 + weighted([15, 60, 20, 5]), source: pick(['email', 'email', 'email', 'web', 'web', 'phone', 'api']),
        created_at: at(createdMs), updated_at: at(updatedMs), closed_at: status === 'open' ? null : at(updatedMs),
        search_tokens: ticketTokens({ number, subject, people: people.map((i) => ({ name: userNames[i]!, email: userEmails[i]! })) }),
      });
      if (!sample?.good) sample = { number, email: userEmails[userIndex]!, departmentId: dept, good: status === 'open' && entryCount >= 3 };
    }
    await db.transaction(async () => {
      await insertChunks('tickets', tickets);
      await insertChunks('thread_entries', entries);
      await insertChunks('attachments', files);
      await insertChunks('ticket_collaborators', collaborators);
    });
    entryTotal += entries.length;
    fileTotal += files.length;
    opts.onProgress?.(Math.min(total, start + chunk), total);
  }

  return {
    tickets: total,
    entries: entryTotal,
    attachments: fileTotal,
    users: userCount,
    departments,
    agents,
    byStatus,
    openUnanswered,
    ms: performance.now() - started,
    sample: sample ? { number: sample.number, email: sample.email, departmentId: sample.departmentId } : { number: '', email: '', departmentId: departments[0]!.id },
  };
}

const HELP = `npm run bench:seed -- --database-url URL [options]

Seeds a database (migrated first) for the benchmarks, to be reused with their --database-url: bench:search and
bench:web at 1,000,000 tickets without seeding on every run.

  --database-url URL        sqlite:/path/file.sqlite or mysql://user@host:port/db
  --tickets N               tickets to add (default 100000)
  --entries-per-ticket N    thread entries per ticket on average (default 5)
  --seed N                  PRNG seed (default 42)
`;

async function main(): Promise<void> {
  const { values, int } = parseBenchArgs('bench:seed', HELP, {
    'database-url': { type: 'string' },
    tickets: { type: 'string', default: '100000' },
    'entries-per-ticket': { type: 'string', default: '5' },
    seed: { type: 'string', default: '42' },
  });
  if (!values['database-url']) {
    process.stderr.write('bench:seed: --database-url is required\n');
    process.exit(2);
  }
  const db = createDatabase(values['database-url']);
  try {
    await migrateLatest(db);
    const started = performance.now();
    const r = await seedTickets(db, {
      tickets: int('tickets', 1), entriesPerTicket: int('entries-per-ticket', 1), seed: int('seed', 0),
      onProgress: (done, total) => {
        if (done % 50_000 === 0 || done === total) process.stderr.write(`  ${done}/${total} tickets, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
      },
    });
    process.stdout.write(`${JSON.stringify({ bench: 'seed', database: db.dialect, tickets: r.tickets, entries: r.entries, attachments: r.attachments, users: r.users, seedMs: Math.round(r.ms), indexBytes: await searchIndexBytes(db) })}\n`);
  } finally {
    await db.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`bench:seed failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
