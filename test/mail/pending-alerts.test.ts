import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { message, send, startListener } from '../helpers/smtp.js';

/**
 * A mailed reply's alerts are written after its 250, from the mark its entry was stored with: they must
 * survive a failure in between and never be written twice.
 */
t.test('pending alerts are written once, and a failed run leaves them pending', async (t) => {
  const { services } = await createTestContext(t);
  const agent = await createAgent(services, { departments: ['Support'] });
  const { port } = await startListener(t, services);
  const mail = (subject: string, messageId: string, headers: Record<string, string> = {}) =>
    send(port, message({ from: 'Eve <eve@example.com>', subject, body: `${subject} body`, messageId, headers }), { from: 'eve@example.com', to: ['support@helpdesk.test'] });
  await mail('Help', 'pa-1@example.com');
  const ticket = (await services.db.q('tickets').where({ subject: 'Help' }).first()) as { id: number };
  await mail('Re: Help', 'pa-2@example.com', { 'In-Reply-To': '<pa-1@example.com>' });
  const alerts = async () => (await services.outbox.forTicket(ticket.id)).filter((m) => m.kind === 'alert_new_message');

  // A run that fails once it has cleared the marks (the outbox cannot take the alerts) rolls the clearing back.
  await services.db.knex.schema.renameTable('outbox', 'outbox_away');
  await t.rejects(services.pendingAlerts.relay());
  await services.db.knex.schema.renameTable('outbox_away', 'outbox');
  t.same(await alerts(), [], 'nothing written by the failed run');

  // Two runs at once (two nodes, or a slow run and the next tick): one writes, the other finds nothing left.
  t.same((await Promise.all([services.pendingAlerts.relay(), services.pendingAlerts.relay()])).sort(), [0, 1], 'one entry handled, by one run');
  const written = await alerts();
  t.same(written.map((m) => m.to), [[`${agent.username}@staff.test`]], 'one alert to the agent');
  t.match(written[0]!.bodyText, 'Re: Help body');
  t.equal(written[0]!.headers['In-Reply-To'], '<pa-2@example.com>', 'it answers the message it is about');
  t.equal(await services.pendingAlerts.relay(), 0, 'nothing is pending afterwards');
});
