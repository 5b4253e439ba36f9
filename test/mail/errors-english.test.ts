import t from 'tap';
import { AppError, ValidationError } from '../../src/errors.js';
import { msg } from '../../src/i18n/message.js';
import { createTestContext } from '../helpers/context.js';
import { message, rawSession, send, startListener } from '../helpers/smtp.js';

const TO = ['support@helpdesk.test'];

// A Danish site: its pages speak Danish, but SMTP replies and quarantine reasons are protocol and log text.
const { services } = await createTestContext(t, { i18n: { defaultLanguage: 'da', pseudoLocale: false } });
const { port } = await startListener(t, services);

const lastInbound = async () => services.db.knex('inbound_messages').orderBy('id', 'desc').first('status', 'error');

t.test('the site speaks Danish', async (t) => {
  t.equal(await services.siteLanguage(), 'da');
});

t.test('SMTP replies stay English', async (t) => {
  const s = await rawSession(port);
  t.teardown(() => s.close());
  t.match(await s.say('EHLO client.example'), /^250/);
  t.match(await s.say('MAIL FROM:<ann@example.com>'), /^250/);
  t.match(await s.say('RCPT TO:<nobody@helpdesk.test>'), /^550 5\.1\.1 No such mailbox here$/);
  t.match(await s.say('RCPT TO:<support@helpdesk.test>'), /^250/);
  t.match(await s.say('DATA'), /^354/);
  const r = await s.say(`${message({ from: 'ann@example.com', subject: 'Hej', body: 'Printeren brænder', messageId: 'hej-1@example.com' }).toString('latin1')}\r\n.`);
  t.match(r, /^250 2\.0\.0 Accepted$/);
});

t.test('a refused message is quarantined with its reason in English, the SMTP answer unchanged', async (t) => {
  const create = services.tickets.create;
  t.teardown(() => {
    services.tickets.create = create;
  });

  services.tickets.create = async () => {
    throw new ValidationError({ email: 'validation.email_invalid', subject: msg('validation.too_long', { max: 255 }) });
  };
  const refused = await send(port, message({ from: 'bo@example.com', subject: 'Hjælp', body: 'b', messageId: 'q-1@example.com' }), { from: 'bo@example.com', to: TO });
  t.same([refused.code, refused.response], [250, '250 2.0.0 Accepted']);
  t.same(await lastInbound(), { status: 'quarantined', error: 'email: Enter a valid e-mail address. subject: At most 255 characters.' });

  services.tickets.create = async () => {
    throw new AppError('NO_DEPARTMENT_HERE', 'conflict', 'errors.no_department');
  };
  await send(port, message({ from: 'bo@example.com', subject: 'Igen', body: 'b', messageId: 'q-2@example.com' }), { from: 'bo@example.com', to: TO });
  t.same(await lastInbound(), { status: 'quarantined', error: 'The help desk has no department yet.' });

  services.tickets.create = async () => {
    throw new Error('something internal');
  };
  await send(port, message({ from: 'bo@example.com', subject: 'Tredje', body: 'b', messageId: 'q-3@example.com' }), { from: 'bo@example.com', to: TO });
  t.same(await lastInbound(), { status: 'quarantined', error: 'The message could not be processed (see the server log).' }, 'no internal detail');
});
