import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { ImapFlow } from 'imapflow';

export const DOVECOT = '/usr/sbin/dovecot';

export interface Dovecot {
  /** Plain IMAP, STARTTLS offered. */
  port: number;
  /** IMAP over TLS from the start. Both present a self-signed certificate for another name, which a client must refuse. */
  tlsPort: number;
  /** Mailbox users: name → password, in the passwd file. */
  users: Record<string, string>;
  /** A signed-in client for a user, to append messages and read flags the way any mail client would. */
  client(user: string): Promise<ImapFlow>;
}

/** Why the IMAP tests cannot run here, or null: they need Debian's dovecot-imapd (.ci/run installs it). */
export function dovecotMissing(): string | null {
  return existsSync(DOVECOT) ? null : `dovecot is not installed (apt-get install dovecot-imapd): the IMAP fetch tests need a real IMAP server`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once the server greets on the port; a bounded wait, so a broken config fails the test with dovecot's log. */
async function greeting(port: number, log: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection(port, '127.0.0.1');
      sock.once('data', (d) => {
        sock.destroy();
        resolve(d.toString().startsWith('* OK'));
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`dovecot did not start: ${existsSync(log) ? readFileSync(log, 'utf8') : 'no log'}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Dovecot on free local ports with a throwaway configuration: password login from a passwd-file (plain text
 * allowed), a Maildir per user in a temporary directory, and TLS with a self-signed certificate for
 * `wrong.example` made here with openssl (a dependency of Dovecot's package). Run as the current user; as root (CI), Dovecot's login
 * processes must not be root, so they and the mail processes run as the users Debian's package creates.
 * Stopped and removed when the test ends.
 */
export async function startDovecot(t: Test, users: Record<string, string>): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-dovecot-'));
  const mail = join(dir, 'mail');
  mkdirSync(join(dir, 'run'));
  mkdirSync(join(dir, 'state'));
  mkdirSync(mail);
  const root = process.getuid?.() === 0;
  // The unprivileged processes have to reach the socket and mail directories below the temporary one.
  chmodSync(dir, 0o755);
  if (root) chmodSync(mail, 0o777);
  const port = await freePort();
  const tlsPort = await freePort();
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=wrong.example', '-days', '2', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const log = join(dir, 'dovecot.log');
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, Object.entries(users).map(([u, p]) => `${u}:{PLAIN}${p}::::::\n`).join(''));
  const me = root ? { user: 'dovecot', login: 'dovenull', group: 'dovecot' } : { user: process.env.USER ?? String(process.getuid!()), login: process.env.USER ?? '', group: String(process.getgid!()) };
  const uid = root ? 'dovecot' : String(process.getuid!());
  const gid = root ? 'dovecot' : String(process.getgid!());
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, [
    `base_dir = ${join(dir, 'run')}`,
    `state_dir = ${join(dir, 'state')}`,
    `log_path = ${log}`,
    'protocols = imap',
    'listen = 127.0.0.1',
    'ssl = yes',
    `ssl_cert = <${cert}`,
    `ssl_key = <${key}`,
    'disable_plaintext_auth = no',
    'auth_mechanisms = plain login',
    `default_internal_user = ${me.user}`,
    `default_internal_group = ${me.group}`,
    `default_login_user = ${me.login || me.user}`,
    'first_valid_uid = 0',
    `mail_location = maildir:${mail}/%u`,
    'passdb {', '  driver = passwd-file', `  args = scheme=PLAIN username_format=%u ${passwd}`, '}',
    'userdb {', '  driver = static', `  args = uid=${uid} gid=${gid} home=${mail}/%u`, '}',
    'service imap-login {', '  inet_listener imap {', '    address = 127.0.0.1', `    port = ${port}`, '  }', '  inet_listener imaps {', '    address = 127.0.0.1', `    port = ${tlsPort}`, '    ssl = yes', '  }', '}',
    '',
  ].join('\n'));
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', conf], { stdio: 'ignore' });
  t.teardown(async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    if (child.exitCode === null) await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  await greeting(port, log);
  return {
    port,
    tlsPort,
    users,
    client: async (user) => {
      const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user, pass: users[user]! }, logger: false, disableAutoIdle: true });
      c.on('error', () => undefined);
      await c.connect();
      t.teardown(() => c.logout().catch(() => c.close()));
      return c;
    },
  };
}
