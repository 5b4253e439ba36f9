import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { message, send, startListener } from '../helpers/smtp.js';

// One desk for the file: a fresh database per test is slow on a loaded MariaDB.
const { services } = await createTestContext(t);

/** Staff alerts as the outbox holds them: who is told about what, and that nobody hears of their own action. */
t.test('alerts follow the assignee, assignment and transfer; never the actor', async (t) => {
  const ann = await createAgent(services, { departments: ['Support'], name: 'Ann' });
  const ben = await createAgent(services, { departments: ['Support'], name: 'Ben' });
  const cat = await createAgent(services, { departments: ['Billing'], name: 'Cat' });
  const dan = await createAgent(services, { departments: ['Billing', 'Support'], name: 'Dan' });
  const root = await createAgent(services, { admin: true, departments: [], name: 'Root' });
  const email = (a: { username: string }) => `${a.username}@staff.test`;
  let seen = 0;
  /** The alerts written since the last call, as "kind to". */
  const fresh = async (ticketId: number) => {
    const rows = (await services.outbox.forTicket(ticketId)).filter((m) => m.kind.startsWith('alert_')).sort((a, b) => a.id - b.id);
    const out = rows.slice(seen).map((m) => `${m.kind} ${m.to.join(',')}`).sort();
    seen = rows.length;
    return out;
  };

  // Ben opens a ticket by phone: his department hears of it, he does not.
  const { ticket } = await services.tickets.create(ben.principal, { name: 'Eve', email: 'eve@example.com', subject: 'Broken', message: 'It broke', source: 'phone' });
  t.same(await fresh(ticket.id), [`alert_new_ticket ${email(ann)}`, `alert_new_ticket ${email(dan)}`].sort(), 'new ticket: the department but not its author');

  // Ann gives it to the administrator, who is in no department.
  await services.tickets.assign(ann.principal, ticket.number, root.principal.staffId);
  t.same(await fresh(ticket.id), [`alert_assigned ${email(root)}`], 'assignment alerts the new assignee only');
  const assigned = (await services.outbox.forTicket(ticket.id)).find((m) => m.kind === 'alert_assigned')!;
  t.match(assigned.subject, `[#${ticket.number}]`);
  t.match(assigned.bodyText, 'Ann assigned ticket');

  // The requester writes again: the assignee hears of it although the department is not theirs.
  const client = { kind: 'client' as const, userId: ticket.userId, ticketId: ticket.id };
  await services.tickets.clientReply(client, ticket.number, 'Still broken');
  t.same(await fresh(ticket.id), [`alert_new_message ${email(ann)}`, `alert_new_message ${email(ben)}`, `alert_new_message ${email(dan)}`, `alert_new_message ${email(root)}`].sort(), 'new message: department and assignee');

  // Taking a ticket oneself alerts nobody.
  await services.tickets.assign(ann.principal, ticket.number, ann.principal.staffId);
  t.same(await fresh(ticket.id), [], 'self-assignment is silent');

  // Dan moves it to Billing: Billing hears of it, Dan (a member of both) does not.
  await services.tickets.transfer(dan.principal, ticket.number, (await services.departments.ensure('Billing')).id);
  const transferred = await fresh(ticket.id);
  t.same(transferred, [`alert_transfer ${email(cat)}`], 'transfer alerts the new department except the actor');
  const mail = (await services.outbox.forTicket(ticket.id)).find((m) => m.kind === 'alert_transfer')!;
  t.match(mail.bodyText, 'from Support to Billing');
  t.ok(services.signer.verify(mail.messageId!), 'signed like every notice, so a reply finds the ticket');
});

t.test('a mailed reply alerts the assignee outside the department', async (t) => {
  const root = await createAgent(services, { admin: true, departments: [], name: 'Mail Root' });
  const { port } = await startListener(t, services);
  await send(port, message({ from: 'Eve <eve@example.com>', subject: 'Help', body: 'first', messageId: 'al-1@example.com' }), { from: 'eve@example.com', to: ['support@helpdesk.test'] });
  const ticket = (await services.db.q('tickets').where({ subject: 'Help' }).first()) as { id: number; number: string };
  await services.tickets.assign(root.principal, ticket.number, root.principal.staffId);
  await send(port, message({ from: 'Eve <eve@example.com>', subject: 'Re: Help', body: 'second', messageId: 'al-2@example.com', headers: { 'In-Reply-To': '<al-1@example.com>' } }), { from: 'eve@example.com', to: ['support@helpdesk.test'] });
  await services.pendingAlerts.relay();
  const alerts = (await services.outbox.forTicket(ticket.id)).filter((m) => m.kind === 'alert_new_message');
  t.ok(alerts.some((m) => m.to[0] === `${root.username}@staff.test`), 'the assignee, in no department, is alerted');
});
