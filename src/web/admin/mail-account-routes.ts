import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import { msg, type Message } from '../../i18n/message.js';
import { AFTER_IMPORT, TLS_MODES, type MailAccount } from '../../mail/accounts/mail-account-repository.js';
import { POLL_SECONDS, type MailAccountInput } from '../../mail/accounts/mail-account-service.js';
import { parseId, readForm } from '../forms.js';
import { translatorFor } from '../i18n.js';
import { render, setFlash } from '../render.js';

type IdParams = { Params: { id: string } };

/** The form's fields as typed: kept when the form comes back with errors. Never the password. */
type FormValues = Omit<Record<keyof MailAccountInput, string>, 'password' | 'enabled'> & { enabled: boolean };

const DEFAULTS: FormValues = { mailboxId: '', host: '', port: '993', tlsMode: 'implicit', username: '', folder: 'INBOX', afterImport: 'mark-read', moveToFolder: '', pollSeconds: '120', enabled: true };

const valuesOf = (a: MailAccount): FormValues => ({
  mailboxId: String(a.mailboxId), host: a.host, port: String(a.port), tlsMode: a.tlsMode, username: a.username, folder: a.folder,
  afterImport: a.afterImport, moveToFolder: a.moveToFolder ?? '', pollSeconds: String(a.pollSeconds), enabled: a.enabled,
});

/** A number field: what is not a whole number stays NaN, which the service refuses with the field's message. */
const whole = (s: string) => (/^\s*\d{1,9}\s*$/.test(s) ? Number(s) : Number.NaN);

/** What a remote server said, in the reader's language, short enough for the flash cookie. */
async function said(request: FastifyRequest, problem: Message): Promise<string> {
  const text = (await translatorFor(request)).t(problem);
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

/** Remote IMAP mailboxes whose mail is fetched (issue 15): list, add, edit, delete, test and fetch now. */
export async function mailAccountAdminRoutes(app: FastifyInstance): Promise<void> {
  const { mailAccounts, mailboxes, imapFetcher, imapPoller } = app.services;

  async function form(request: FastifyRequest, reply: FastifyReply, data: { account: MailAccount | null; values: FormValues; errors?: FieldErrors }, status = 200) {
    return render(request, reply, 'admin/mail-account-form', {
      title: data.account ? 'admin.mail_accounts.edit_title' : 'admin.mail_accounts.new_title',
      errors: {},
      ...data,
      mailboxes: (await mailboxes.list()).map((m) => ({ value: m.id, label: mailboxes.address(m) })),
      tlsModes: TLS_MODES,
      afterImports: AFTER_IMPORT,
      poll: POLL_SECONDS,
    }, status);
  }

  async function save(request: FastifyRequest, reply: FastifyReply, account: MailAccount | null) {
    const f = readForm(request).fields;
    const values: FormValues = {
      mailboxId: f.mailboxId ?? '', host: f.host ?? '', port: f.port ?? '', tlsMode: f.tlsMode ?? '', username: f.username ?? '', folder: f.folder ?? '',
      afterImport: f.afterImport ?? '', moveToFolder: f.moveToFolder ?? '', pollSeconds: f.pollSeconds ?? '', enabled: f.enabled === '1',
    };
    const input: MailAccountInput = { ...values, mailboxId: parseId(values.mailboxId), port: whole(values.port), pollSeconds: whole(values.pollSeconds), password: f.password ?? '' };
    try {
      const id = account ? (await mailAccounts.update(request.staff!, account.id, input), account.id) : (await mailAccounts.create(request.staff!, input)).id;
      setFlash(reply, { type: 'success', message: msg('admin.mail_accounts.flash.saved', { account: `${input.username.trim()}@${input.host.trim()}` }) });
      return reply.redirect(`/scp/admin/mail-accounts/${id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return form(request, reply, { account, values, errors: err.fields }, 400);
    }
  }

  app.get('/mail-accounts', async (request, reply) =>
    render(request, reply, 'admin/mail-accounts', { title: 'admin.mail_accounts.title', accounts: await mailAccounts.list(), domain: mailboxes.mailDomain }),
  );
  app.get('/mail-accounts/new', async (request, reply) => form(request, reply, { account: null, values: DEFAULTS }));
  app.post('/mail-accounts/new', async (request, reply) => save(request, reply, null));
  app.get<IdParams>('/mail-accounts/:id', async (request, reply) => {
    const account = await mailAccounts.get(parseId(request.params.id));
    return form(request, reply, { account, values: valuesOf(account) });
  });
  app.post<IdParams>('/mail-accounts/:id', async (request, reply) => save(request, reply, await mailAccounts.get(parseId(request.params.id))));

  app.post<IdParams>('/mail-accounts/:id/test', async (request, reply) => {
    const account = await mailAccounts.get(parseId(request.params.id));
    const result = await imapFetcher.test(mailAccounts.connection(account), account);
    setFlash(reply, result.ok
      ? { type: 'success', message: msg('admin.mail_accounts.flash.test_ok', { count: result.waiting }) }
      : { type: 'error', message: msg('admin.mail_accounts.flash.test_failed', { problem: await said(request, result.problem) }) });
    return reply.redirect(`/scp/admin/mail-accounts/${account.id}`);
  });
  app.post<IdParams>('/mail-accounts/:id/fetch', async (request, reply) => {
    const account = await mailAccounts.get(parseId(request.params.id));
    const report = await imapPoller.fetch(account);
    setFlash(reply, !report
      ? { type: 'info', message: 'admin.mail_accounts.flash.fetch_busy' }
      : report.stopped
        ? { type: 'error', message: msg('admin.mail_accounts.flash.fetch_stopped', { imported: report.imported, problem: await said(request, report.stopped) }) }
        : { type: 'success', message: msg('admin.mail_accounts.flash.fetched', { imported: report.imported, duplicates: report.duplicates, quarantined: report.quarantined }) });
    return reply.redirect(`/scp/admin/mail-accounts/${account.id}`);
  });
  app.post<IdParams>('/mail-accounts/:id/delete', async (request, reply) => {
    const account = await mailAccounts.get(parseId(request.params.id));
    if (readForm(request).fields.confirm !== '1') {
      setFlash(reply, { type: 'error', message: 'admin.mail_accounts.flash.confirm_delete' });
      return reply.redirect(`/scp/admin/mail-accounts/${account.id}`);
    }
    await mailAccounts.delete(request.staff!, account.id);
    setFlash(reply, { type: 'success', message: msg('admin.mail_accounts.flash.deleted', { account: `${account.username}@${account.host}` }) });
    return reply.redirect('/scp/admin/mail-accounts');
  });
}
