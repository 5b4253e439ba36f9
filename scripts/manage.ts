/**
 * The management CLI: `npm run manage -- <command> [options]` (DESIGN.md §4, CLI contract).
 * Commands are entries of the `commands` table below; each declares its options, and gets the services
 * through `open()`, which loads config and migrates exactly as the server does (src/bootstrap.ts).
 *
 * Exit codes: 0 done, 1 the command failed (bad value, database unreachable), 2 wrong usage; `pipe` follows
 * sysexits.h for MTAs: 75 temporary failure (retry), 77 sender refused, 67 no such mailbox.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StartupError, bootstrap, loadConfigOrFail, openDatabase, redactUrl } from '../src/bootstrap.js';
import { DatabaseUnavailable, normaliseDbError } from '../src/db/errors.js';
import { AppError, ValidationError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import type { Services } from '../src/services.js';
import { SenderBanned, isTransient, type IntakeOutcome } from '../src/mail/inbound/intake-service.js';
import { loadI18n } from '../src/i18n/load.js';
import type { Msg } from '../src/i18n/message.js';

const EX_NOUSER = 67;
const EX_TEMPFAIL = 75;
const EX_NOPERM = 77;

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | string[] | undefined>;

interface CommandContext {
  values: Values;
  /** Config, database, migrations and services; closed by the runner when the command ends. */
  open(): Promise<Services>;
  out(line: string): void;
}

interface Command {
  summary: string;
  usage: string;
  options: Options;
  /** Option help, in the order shown. */
  help: Array<[flag: string, text: string]>;
  required?: string[];
  run(ctx: CommandContext): Promise<void>;
}

class UsageError extends Error {}

const str = (v: Values[string]): string => (typeof v === 'string' ? v : '');

const commands: Record<string, Command> = {
  migrate: {
    summary: 'Bring the database schema up to date (the server also does this on start).',
    usage: 'migrate',
    options: {},
    help: [],
    async run({ out }) {
      const config = loadConfigOrFail();
      const { db, applied } = await openDatabase(config, createLogger(config.logLevel, process.stderr));
      await db.close();
      out(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The database is up to date.');
      out(`Database: ${redactUrl(config.databaseUrl)}`);
    },
  },

  'create-staff': {
    summary: 'Create a staff account (an administrator with --admin).',
    usage: 'create-staff --username U --email E --password P [--name N] [--admin] [--department NAME]... [--timezone TZ]',
    options: {
      username: { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      admin: { type: 'boolean' },
      department: { type: 'string', multiple: true },
      timezone: { type: 'string' },
    },
    help: [
      ['--username U', 'login name: lower-case letters, digits, dots, dashes, underscores'],
      ['--email E', 'the agent\'s e-mail address (also accepted as login)'],
      ['--password P', 'at least 10 characters'],
      ['--name N', 'display name (default: the username)'],
      ['--admin', 'make the account an administrator'],
      ['--department NAME', 'add the agent to this department, created if missing; repeat for several'],
      ['--timezone TZ', 'e.g. Europe/Berlin (default UTC)'],
    ],
    required: ['username', 'email', 'password'],
    async run({ values, open, out }) {
      const services = await open();
      const memberships = [];
      for (const name of (values.department as string[] | undefined) ?? []) {
        if (!name.trim()) throw new UsageError('--department needs a name');
        memberships.push({ departmentId: (await services.departments.ensure(name.trim())).id, isManager: false });
      }
      const staff = await services.staff.create(null, {
        username: str(values.username),
        email: str(values.email),
        name: str(values.name) || str(values.username),
        password: str(values.password),
        isAdmin: values.admin === true,
        timezone: str(values.timezone) || undefined,
        departments: memberships,
      });
      out(`Created ${staff.isAdmin ? 'administrator' : 'agent'} "${staff.username}" (id ${staff.id}, ${staff.email}).`);
      if (!memberships.length && !staff.isAdmin) {
        out('Note: the account belongs to no department, so it sees no tickets until an administrator adds it to one.');
      }
      out(`Sign in at ${services.config.publicUrl}/scp/login`);
    },
  },

  pipe: {
    summary: 'Deliver one raw message from standard input, for an MTA pipe transport (exits 75 to make the MTA retry).',
    usage: 'pipe [--mailbox NAME] < message.eml',
    options: { mailbox: { type: 'string' } },
    help: [['--mailbox NAME', 'the mailbox (local part) it was addressed to; default: found in the message headers']],
    async run({ values, open, out }) {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      if (!raw.length) throw new UsageError('no message on standard input');
      let outcome: IntakeOutcome;
      try {
        const services = await open();
        const mailbox = str(values.mailbox) ? await services.mailboxes.resolveRecipient(`${str(values.mailbox)}@${services.config.mailDomain}`) : null;
        if (str(values.mailbox) && !mailbox) throw Object.assign(new UsageError(`no mailbox "${str(values.mailbox)}"`), { exitCode: EX_NOUSER });
        outcome = await services.intake.deliver(raw, { mailbox, envelopeFrom: null, source: 'pipe', remoteAddress: null });
      } catch (e) {
        // sysexits.h: the MTA keeps the message and retries on 75, bounces it on 77.
        if (e instanceof SenderBanned) throw Object.assign(e, { exitCode: EX_NOPERM });
        if (e instanceof StartupError || isTransient(e) || normaliseDbError(e) instanceof DatabaseUnavailable) throw Object.assign(e as Error, { exitCode: EX_TEMPFAIL });
        throw e;
      }
      out('ticketNumber' in outcome ? `${outcome.status} #${outcome.ticketNumber}` : outcome.status);
    },
  },

  'create-api-key': {
    summary: 'Create an API key for POST /api/tickets.json and /api/v1 (the key is printed once).',
    usage: 'create-api-key [--name N] [--ip ADDR]',
    options: { name: { type: 'string' }, ip: { type: 'string' } },
    help: [
      ['--name N', 'what the key is for, shown in the admin panel'],
      ['--ip ADDR', 'only accept the key from this client address'],
    ],
    async run({ values, open, out }) {
      const services = await open();
      const { key, apiKey } = await services.apiKeys.create({ name: str(values.name), allowedIp: str(values.ip) || null });
      out(`Created API key ${apiKey.id} "${apiKey.name}"${apiKey.allowedIp ? `, accepted only from ${apiKey.allowedIp}` : ''}.`);
      out('The key is shown only now; store it safely:');
      out(key);
    },
  },

  reindex: {
    summary: 'Rebuild the search index, in batches by ticket id; an interrupted run resumes where it stopped.',
    usage: 'reindex [--restart] [--batch N]',
    options: { restart: { type: 'boolean' }, batch: { type: 'string' } },
    help: [
      ['--restart', 'start over from the first ticket instead of resuming'],
      ['--batch N', 'tickets per transaction (default 500)'],
    ],
    async run({ values, open, out }) {
      const batch = str(values.batch) ? Number(values.batch) : 500;
      if (!Number.isSafeInteger(batch) || batch < 1 || batch > 10_000) throw new UsageError('--batch must be a whole number from 1 to 10000');
      const services = await open();
      if (values.restart) await services.searchIndex.restartReindex();
      const started = Date.now();
      let done = 0;
      // Each step is its own transaction with the progress mark: the server keeps serving, and search finds a
      // ticket again as soon as its batch commits.
      for (let step = await services.searchIndex.reindexStep(batch); step; step = await services.searchIndex.reindexStep(batch)) {
        done += step.done;
        const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
        out(`Indexed ${done} ticket(s), up to id ${step.lastId}; ${step.remaining} to go (${rate}/s).`);
      }
      out(done ? `Done: ${done} ticket(s) indexed.` : 'Nothing to do: the index is complete (use --restart to rebuild it all).');
    },
  },
};

function generalHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'Usage: npm run manage -- <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `npm run manage -- <command> --help` for a command\'s options.',
    'Configuration comes from config/default.json and the environment (DATABASE_URL, ...), as for `npm start`.',
  ].join('\n');
}

function commandHelp(name: string, c: Command): string {
  const width = Math.max(0, ...c.help.map(([f]) => f.length));
  return [
    `Usage: npm run manage -- ${c.usage}`,
    '',
    c.summary,
    ...(c.help.length ? ['', 'Options:', ...c.help.map(([f, t]) => `  ${f.padEnd(width)}  ${t}`)] : []),
    ...(c.required?.length ? ['', `Required: ${c.required.map((r) => `--${r}`).join(', ')}`] : []),
    '',
    `Example: npm run manage -- ${name}${name === 'create-staff' ? ' --username admin --email admin@example.com --password "a long password" --admin' : ''}`,
  ].join('\n');
}

// The CLI speaks English (as the logs do); services speak in catalog keys.
const english = (m: Msg) => loadI18n(false).translator('en').t(m);

/** One line for anything a command can fail with; unknown errors keep their message but never a stack. */
function describe(err: unknown): string {
  if (err instanceof ValidationError) {
    return Object.entries(err.fields).map(([field, message]) => `--${field}: ${english(message).replace(/\.$/, '')}`).join('; ') || english(err.userMessage);
  }
  if (err instanceof AppError) return english(err.userMessage);
  if (err instanceof StartupError || err instanceof UsageError) return err.message;
  const e = normaliseDbError(err);
  if (e instanceof DatabaseUnavailable) return `the database is unreachable: ${e.message.split('\n')[0]}`;
  return `unexpected error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
}

async function main(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`manage: ${line}\n`);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(generalHelp());
    return name ? 0 : 2;
  }
  const command = Object.hasOwn(commands, name) ? commands[name]! : undefined;
  if (!command) {
    err(`unknown command "${name}"; commands: ${Object.keys(commands).join(', ')} (see --help)`);
    return 2;
  }
  let values: Values;
  try {
    values = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    err(`${name}: ${(e as Error).message.split('\n')[0]}; see \`npm run manage -- ${name} --help\``);
    return 2;
  }
  if (values.help) {
    out(commandHelp(name, command));
    return 0;
  }
  const missing = (command.required ?? []).filter((o) => !str(values[o]));
  if (missing.length) {
    err(`${name}: missing ${missing.map((m) => `--${m}`).join(', ')}; usage: npm run manage -- ${command.usage}`);
    return 2;
  }

  let services: Services | undefined;
  try {
    await command.run({
      values,
      out,
      // Logs go to stderr so that stdout carries only the command's answer (an API key, for instance).
      open: async () => (services ??= await bootstrap({ logDestination: process.stderr })),
    });
    return 0;
  } catch (e) {
    err(`${name}: ${describe(e)}`);
    return (e as { exitCode?: number }).exitCode ?? (e instanceof UsageError ? 2 : 1);
  } finally {
    await services?.db.close().catch(() => undefined);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`manage: ${describe(e)}\n`);
    process.exit(1);
  },
);
