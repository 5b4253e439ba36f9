import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

t.test('the ticket page lists the requester’s other tickets, open first, only those the agent may see', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const { services } = ctx;
  const admin = await createAgent(services, { admin: true, departments: ['Support'] });
  const agent = await createAgent(services, { departments: ['Support'] });
  const billing = (await services.departments.ensure('Billing')).id;
  const open = (subject: string) => services.tickets.create(null, { name: 'Rita <Root>', email: 'rita@example.com', subject, message: 'Help', source: 'web' }).then((r) => r.ticket);

  const current = await open('Printer jams');
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  const lonely = await b.get(`/scp/tickets/${current.number}`);
  t.match(lonely.body, 'Other tickets from Rita &lt;Root&gt;', 'the name escaped');
  t.match(lonely.body, 'No other tickets you can see.');

  const older = await open('VPN <b>drops</b>');
  await services.tickets.setStatus(admin.principal, older.number, 'closed');
  const billed = await open('Invoice');
  await services.tickets.transfer(admin.principal, billed.number, billing);
  const newest = await open('Screen');

  const page = (await b.get(`/scp/tickets/${current.number}`)).body;
  t.match(page, `#${newest.number}</a> Screen`);
  t.match(page, `#${older.number}</a> VPN &lt;b&gt;drops&lt;/b&gt;`, 'subjects escaped');
  t.ok(page.indexOf(`#${newest.number}<`) < page.indexOf(`#${older.number}<`), 'open before closed');
  t.notMatch(page, `#${billed.number}<`, 'nothing from a department the agent is not in');
  t.notMatch(page.slice(page.indexOf('requester-tickets')), `#${current.number}<`, 'not the ticket itself');

  const a = new Browser(app);
  await a.staffLogin(admin.username, admin.password);
  t.match((await a.get(`/scp/tickets/${current.number}`)).body, `#${billed.number}</a> Invoice`, 'an administrator sees every department');
});
