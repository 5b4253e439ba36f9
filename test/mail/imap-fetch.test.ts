import { connect, createServer, type AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import type { ImapFlow } from 'imapflow';
import { createDatabase } from '../../src/db/database.js';
import { LeaseRepository } from '../../src/jobs/lease-repository.js';
import { MailAccountRepository } from '../../src/mail/accounts/mail-account-repository.js';
import { FETCH_BATCH, ImapFetcher } from '../../src/mail/inbound/imap-fetcher.js';
import { ImapPoller } from '../../src/mail/inbound/imap-poller.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { dovecotMissing, startDovecot } from '../helpers/dovecot.js';
import { Browser, createTestApp, fieldError } from '../helpers/http.js';
import { message } from '../helpers/smtp.js';

/**
 * Issue 15, items 1 and 3: mail accounts fetched over IMAP from a real Dovecot, into the same intake as SMTP.
 * One server and one app for all subtests; each subtest uses its own folder or mailbox user.
 */
const missing = dovecotMissing();

t.test('IMAP mail accounts against Dovecot', { skip: missing ?? false }, async (t) => {
  const dovecot = await startDovecot(t, { alice: 'S3cret-alice', bob: 'S3cret-bob', carol: 'S3cret-carol', dave: 'S3cret-dave' });
  const ctx = await createTestContext(t);
  const { services } = ctx;
  const app = await createTestApp(t, ctx);
  const admin = await createAgent(services, { admin: true });
  const b = new Browser(app);
  await b.staffLogin(admin.username, admin.password);
  const support = (await services.mailboxes.list())[0]!;
  const knex = services.db.knex;
  const entriesWithSubject = async (subject: string) => Number((await knex('tickets').where({ subject }).count({ n: '*' }).first())!.n);
  const form = (over: Record<string, string>) => ({
    mailboxId: String(support.id), host: '127.0.0.1', port: String(dovecot.port), tlsMode: 'none', username: 'alice', password: 'S3cret-alice',
    folder: 'INBOX', afterImport: 'mark-read', moveToFolder: '', pollSeconds: '60', enabled: '1', ...over,
  });
  async function addAccount(t: Test, over: Record<string, string>) {
    await b.get('/scp/admin/mail-accounts/new');
    const res = await b.post('/scp/admin/mail-accounts/new', form(over));
    t.equal(res.statusCode, 302, `account ${over.username ?? 'alice'} ${over.folder ?? 'INBOX'} saved`);
    return services.mailAccounts.get(Number(/\/mail-accounts\/(\d+)$/.exec(res.headers.location as string)![1]));
  }
  const flagsOf = async (c: ImapFlow, folder: string) => {
    const lock = await c.getMailboxLock(folder);
    try {
      // Flag changes made by the fetcher's connection can come back as extra FETCH responses without an envelope.
      return (await c.fetchAll('1:*', { uid: true, flags: true, envelope: true })).filter((m) => m.envelope).map((m) => ({ subject: m.envelope!.subject, seen: m.flags!.has('\\Seen') }));
    } catch {
      return [];
    } finally {
      lock.release();
    }
  };
  const append = (c: ImapFlow, folder: string, subject: string, messageId: string) => c.append(folder, message({ from: 'requester@example.com', subject, body: `About ${subject}`, messageId }));
  const alice = await dovecot.client('alice');

  t.test('the admin page: access, validation with values kept, the password never shown, connection test', async (t) => {
    const agent = await createAgent(services);
    const nonAdmin = new Browser(app);
    await nonAdmin.staffLogin(agent.username, agent.password);
    t.equal((await nonAdmin.get('/scp/admin/mail-accounts')).statusCode, 403, 'agents do not see mail accounts');
    t.match((await b.get('/scp/admin/mail-accounts')).body, /No mail accounts/, 'empty state');

    await b.get('/scp/admin/mail-accounts/new');
    const bad = await b.post('/scp/admin/mail-accounts/new', form({ host: 'imap.example.com', port: '99999', username: '', pollSeconds: '5', password: 'Typed-Secret-1' }));
    t.equal(bad.statusCode, 400);
    t.ok(fieldError(bad.body, 'tlsMode')?.includes('in clear'), 'no plain text to a remote server');
    t.ok(fieldError(bad.body, 'port'), 'port out of range');
    t.ok(fieldError(bad.body, 'username'), 'user name required');
    t.ok(fieldError(bad.body, 'pollSeconds')?.includes('30'), 'poll interval bounds named');
    t.match(bad.body, 'value="imap.example.com"', 'values kept');
    t.notMatch(bad.body, 'Typed-Secret-1', 'the typed password is not echoed back');
    const noMove = await b.post('/scp/admin/mail-accounts/new', form({ afterImport: 'move', moveToFolder: 'INBOX' }));
    t.ok(fieldError(noMove.body, 'moveToFolder'), 'moving into the folder fetched from is refused');

    const account = await addAccount(t, {});
    const stored = (await knex('mail_accounts').where({ id: account.id }).first()) as { credential: string };
    t.notMatch(stored.credential, 'S3cret-alice', 'stored encrypted');
    t.equal(services.mailAccounts.connection(account).password, 'S3cret-alice', 'and opened again with the key from the secrets');
    const edit = await b.get(`/scp/admin/mail-accounts/${account.id}`);
    t.notMatch(edit.body, 'S3cret-alice', 'the edit form does not show the password');
    // Saving without a password keeps the stored one.
    t.equal((await b.post(`/scp/admin/mail-accounts/${account.id}`, form({ password: '', pollSeconds: '90' }))).statusCode, 302);
    t.equal(services.mailAccounts.connection(await services.mailAccounts.get(account.id)).password, 'S3cret-alice');

    await append(alice, 'INBOX', 'Waiting one', 'w1@example.com');
    await append(alice, 'INBOX', 'Waiting two', 'w2@example.com');
    await b.get(`/scp/admin/mail-accounts/${account.id}`);
    await b.post(`/scp/admin/mail-accounts/${account.id}/test`, {});
    t.match((await b.get(`/scp/admin/mail-accounts/${account.id}`)).body, 'Authenticated; 2 messages waiting.', 'the test counts what a fetch would take');

    const wrong = await addAccount(t, { username: 'bob', password: 'not-bobs' });
    await b.post(`/scp/admin/mail-accounts/${wrong.id}/test`, {});
    t.match((await b.get(`/scp/admin/mail-accounts/${wrong.id}`)).body, /The test failed: The server refused the login: .*AUTHENTICATIONFAILED|Authentication failed/, "the server's refusal, in its words");
    const noFolder = await addAccount(t, { username: 'bob', password: 'S3cret-bob', folder: 'Nowhere' });
    await b.post(`/scp/admin/mail-accounts/${noFolder.id}/test`, {});
    t.match((await b.get(`/scp/admin/mail-accounts/${noFolder.id}`)).body, 'The folder Nowhere does not exist on the server');
    const closedPort = await addAccount(t, { username: 'bob', password: 'S3cret-bob', port: '1' });
    await b.post(`/scp/admin/mail-accounts/${closedPort.id}/fetch`, {});
    const page = await b.get(`/scp/admin/mail-accounts/${closedPort.id}`);
    t.match(page.body, 'Could not connect to 127.0.0.1 port 1 (ECONNREFUSED)', 'fetch now reports the failure');
    t.match(page.body, 'Last error: Could not connect', 'and the account shows it as its last error');
    t.match((await b.get('/scp/admin/mail-accounts')).body, 'Could not connect to 127.0.0.1 port 1', 'the list shows it too');

    // A password sealed under another key (a database restored without its secrets): said, never a 500.
    await knex('mail_accounts').where({ id: closedPort.id }).update({ credential: Buffer.alloc(40, 7).toString('base64') });
    await b.get(`/scp/admin/mail-accounts/${closedPort.id}`);
    const unreadable = await b.post(`/scp/admin/mail-accounts/${closedPort.id}/test`, {});
    t.equal(unreadable.statusCode, 409);
    t.match(unreadable.body, 'cannot be decrypted');
    await b.get(`/scp/admin/mail-accounts/${closedPort.id}`);
    await b.post(`/scp/admin/mail-accounts/${closedPort.id}/fetch`, {});
    t.match((await services.mailAccounts.get(closedPort.id)).lastError, /cannot be decrypted/, 'a fetch records it on the account');

    // A certificate for another name, over TLS from the start and over STARTTLS: refused, and said so.
    const badCert = await addAccount(t, { username: 'bob', password: 'S3cret-bob', port: String(dovecot.tlsPort), tlsMode: 'implicit' });
    await b.post(`/scp/admin/mail-accounts/${badCert.id}/test`, {});
    t.match((await b.get(`/scp/admin/mail-accounts/${badCert.id}`)).body, /The test failed: The secure connection failed: self[- ]signed certificate/);
    const badStartTls = await addAccount(t, { username: 'bob', password: 'S3cret-bob', tlsMode: 'starttls' });
    await b.post(`/scp/admin/mail-accounts/${badStartTls.id}/test`, {});
    t.match((await b.get(`/scp/admin/mail-accounts/${badStartTls.id}`)).body, /The test failed: The secure connection failed: self[- ]signed certificate/);

    for (const a of [wrong, noFolder, closedPort, badCert, badStartTls]) {
      await b.get(`/scp/admin/mail-accounts/${a.id}`);
      t.equal((await b.post(`/scp/admin/mail-accounts/${a.id}/delete`, {})).statusCode, 302);
      t.ok(await knex('mail_accounts').where({ id: a.id }).first(), 'not deleted without confirmation');
      t.equal((await b.post(`/scp/admin/mail-accounts/${a.id}/delete`, { confirm: '1' })).statusCode, 302);
    }
    t.equal((await services.mailAccounts.list()).length, 1, 'deleted once confirmed');
  });

  t.test('mark read: imported once, flagged only after the commit, re-delivery writes nothing', async (t) => {
    const account = (await services.mailAccounts.list()).find((a) => a.username === 'alice' && a.folder === 'INBOX')!;
    // A message whose entry was committed but whose flag was never set (a crash in between).
    const raw = message({ from: 'requester@example.com', subject: 'Crashed before the flag', body: 'x', messageId: 'crash@example.com' });
    await services.intake.deliver(raw, { mailbox: support, envelopeFrom: null, source: 'imap', remoteAddress: '127.0.0.1' });
    await alice.append('INBOX', raw);

    const report = (await services.imapPoller.fetch(account))!;
    t.same([report.imported, report.duplicates, report.stopped], [2, 1, null]);
    t.same(await flagsOf(alice, 'INBOX'), [
      { subject: 'Waiting one', seen: true }, { subject: 'Waiting two', seen: true }, { subject: 'Crashed before the flag', seen: true },
    ], 'every message read on the server');
    t.same([await entriesWithSubject('Waiting one'), await entriesWithSubject('Crashed before the flag')], [1, 1], 'one ticket each');
    const after = await services.mailAccounts.get(account.id);
    t.ok(after.lastSuccessAt, 'last success recorded');
    t.equal(after.lastError, null);

    await append(alice, 'INBOX', 'Waiting three', 'w3@example.com');
    t.same(((await services.imapPoller.fetch(after))!).imported, 1, 'the next fetch takes only the new message');
    t.equal(await entriesWithSubject('Waiting one'), 1);
    const again = (await services.imapPoller.fetch(account))!;
    t.same([again.imported, again.duplicates], [0, 0], 'an account read before the last fetch goes on from the position saved since');
  });

  t.test('move and delete after import', async (t) => {
    const carol = await dovecot.client('carol');
    await carol.mailboxCreate('Support');
    await carol.mailboxCreate('Done');
    const moving = await addAccount(t, { username: 'carol', password: 'S3cret-carol', folder: 'Support', afterImport: 'move', moveToFolder: 'Done' });
    await append(carol, 'Support', 'To be moved', 'move@example.com');
    t.equal(((await services.imapPoller.fetch(moving))!).imported, 1);
    t.same(await flagsOf(carol, 'Support'), [], 'gone from the folder');
    t.same((await flagsOf(carol, 'Done')).map((m) => m.subject), ['To be moved'], 'into the other one');

    const bob = await dovecot.client('bob');
    const deleting = await addAccount(t, { username: 'bob', password: 'S3cret-bob', afterImport: 'delete' });
    await append(bob, 'INBOX', 'To be deleted', 'delete@example.com');
    t.equal(((await services.imapPoller.fetch(deleting))!).imported, 1);
    t.same(await flagsOf(bob, 'INBOX'), [], 'deleted on the server');
    t.equal(await entriesWithSubject('To be deleted'), 1);
  });

  t.test('a folder re-created (new UIDVALIDITY) is read again without importing twice', async (t) => {
    const carol = await dovecot.client('carol');
    const account = (await services.mailAccounts.list()).find((a) => a.username === 'carol')!;
    const before = account.lastUidValidity;
    await carol.mailboxDelete('Support');
    await carol.mailboxCreate('Support');
    await append(carol, 'Support', 'To be moved', 'move@example.com');
    await append(carol, 'Support', 'After the reset', 'reset@example.com');
    const report = (await services.imapPoller.fetch(await services.mailAccounts.get(account.id)))!;
    t.same([report.imported, report.duplicates], [1, 1]);
    t.not((await services.mailAccounts.get(account.id)).lastUidValidity, before, 'the new UIDVALIDITY is stored');
    t.equal(await entriesWithSubject('To be moved'), 1, 'no second ticket');
  });

  t.test('a message over the size cap stays on the server; the fetch goes on past it and the account says so', async (t) => {
    const account = (await services.mailAccounts.list()).find((a) => a.username === 'alice')!;
    await alice.append('INBOX', message({ from: 'requester@example.com', subject: 'Too big', body: 'x'.repeat(5000), messageId: 'big@example.com' }));
    await append(alice, 'INBOX', 'Small after big', 'small@example.com');
    // The same parts as the node's own, with a cap of 4 KB.
    const fetcher = new ImapFetcher({ accounts: services.mailAccounts, mailboxes: services.mailboxes, intake: services.intake, log: services.log, maxMessageBytes: 4096, timeoutMs: 10_000 });
    const poller = new ImapPoller({ accounts: new MailAccountRepository(services.db, ctx.clock), fetcher, leases: new LeaseRepository(services.db), clock: ctx.clock, log: services.log, describe: services.i18n.translator('en').t, nodeId: 'capped', tickMs: 1000, leaseMs: 30_000 });
    const report = (await poller.fetch(account))!;
    t.equal(report.imported, 1, 'the next message is taken');
    t.equal(report.tooLarge.length, 1);
    t.same((await flagsOf(alice, 'INBOX')).filter((m) => !m.seen).map((m) => m.subject), ['Too big'], 'the big one is left unread');
    t.match((await services.mailAccounts.get(account.id)).lastError, /1 message is larger than the size limit and stayed on the server/);
  });

  t.test('another node holding the lease: this one leaves the account alone', async (t) => {
    const account = (await services.mailAccounts.list()).find((a) => a.username === 'alice')!;
    await append(alice, 'INBOX', 'Leased', 'leased@example.com');
    const leases = new LeaseRepository(services.db);
    const now = ctx.clock.now();
    t.ok(await leases.acquire(`mail-account:${account.id}`, 'other-node', now, new Date(now.getTime() + 60_000)));
    t.equal(await services.imapPoller.fetch(account), null, 'not fetched');
    t.same((await flagsOf(alice, 'INBOX')).at(-1), { subject: 'Leased', seen: false });
    await leases.release(`mail-account:${account.id}`, 'other-node');
    t.equal(((await services.imapPoller.fetch(account))!).imported, 1);
  });

  t.test('the poller fetches enabled accounts once their interval has passed', async (t) => {
    const bob = await dovecot.client('bob');
    const off = await addAccount(t, { username: 'bob', password: 'S3cret-bob', folder: 'Off', enabled: '' });
    await bob.mailboxCreate('Off');
    await append(bob, 'Off', 'Not fetched', 'off@example.com');
    await append(bob, 'INBOX', 'Polled', 'polled@example.com');
    const deleting = (await services.mailAccounts.list()).find((a) => a.username === 'bob' && a.folder === 'INBOX')!;
    await services.imapPoller.tick();
    t.equal(await entriesWithSubject('Polled'), 0, 'fetched a moment ago: not due yet');
    ctx.clock.advance(deleting.pollSeconds * 1000);
    await services.imapPoller.tick();
    t.equal(await entriesWithSubject('Polled'), 1, 'due: fetched');
    t.equal(await entriesWithSubject('Not fetched'), 0, 'a disabled account is left alone');
    t.equal((await services.mailAccounts.get(off.id)).lastFetchAt, null);
  });

  t.test('the server drops the connection mid-fetch: what was stored stays done, the rest comes next time, once', async (t) => {
    // A proxy in front of Dovecot that cuts both sides when the client asks for a second group of messages.
    let cuts = 0;
    const proxy = createServer((down) => {
      const up = connect(dovecot.port, '127.0.0.1');
      let sourceRequests = 0;
      down.on('data', (d: Buffer) => {
        sourceRequests += (d.toString('latin1').match(/PEEK\[\]/g) ?? []).length;
        if (sourceRequests === 2) {
          cuts += 1;
          down.destroy();
          up.destroy();
        } else up.write(d);
      });
      up.on('data', (d: Buffer) => down.write(d));
      up.on('error', () => down.destroy());
      down.on('error', () => up.destroy());
      up.on('close', () => down.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
    const dave = await dovecot.client('dave');
    for (let i = 1; i <= FETCH_BATCH + 1; i++) await append(dave, 'INBOX', `Batch ${i}`, `batch${i}@example.com`);
    const account = await addAccount(t, { username: 'dave', password: 'S3cret-dave', port: String((proxy.address() as AddressInfo).port) });

    const first = (await services.imapPoller.fetch(account))!;
    t.equal(cuts, 1, 'the connection was cut');
    t.equal(first.imported, FETCH_BATCH, 'the first group is stored');
    t.match(first.stopped, { key: 'errors.mail_account.dropped' });
    t.match((await services.mailAccounts.get(account.id)).lastError, 'closed the connection during the fetch');
    t.same((await flagsOf(dave, 'INBOX')).filter((m) => !m.seen).map((m) => m.subject), [`Batch ${FETCH_BATCH + 1}`], 'the rest stays unread');

    const second = (await services.imapPoller.fetch(await services.mailAccounts.get(account.id)))!;
    t.same([second.imported, second.duplicates, second.stopped], [1, 0, null], 'the next fetch takes the rest');
    t.same([await entriesWithSubject('Batch 1'), await entriesWithSubject(`Batch ${FETCH_BATCH + 1}`)], [1, 1], 'each once');
    t.equal((await services.mailAccounts.get(account.id)).lastError, null, 'a good fetch clears the error');
  });

  t.test('the database down: the message stays unread on the server', async (t) => {
    const account = (await services.mailAccounts.list()).find((a) => a.username === 'alice')!;
    await append(alice, 'INBOX', 'While down', 'down@example.com');
    // A second node on the same database, whose pool is then closed: every statement it tries fails.
    const db = createDatabase(ctx.dbUrl);
    const other = createServices({ db, clock: ctx.clock, config: ctx.config, log: services.log, secrets: await loadSecrets(new SettingsRepository(db)) });
    await db.close();
    const saved: number[] = [];
    const report = await other.imapFetcher.fetch(account, async (_v, uid) => void saved.push(uid), new AbortController().signal);
    t.equal(report.imported, 0);
    t.match(report.stopped, { key: 'errors.mail_account.store_failed' });
    t.same(saved, [], 'the position did not move');
    t.same((await flagsOf(alice, 'INBOX')).at(-1), { subject: 'While down', seen: false });
    t.equal(((await services.imapPoller.fetch(account))!).imported, 1, 'taken once the database is back');
  });
});
