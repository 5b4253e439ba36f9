import t, { type Test } from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

// Many argon2 sign-ins and a fresh database per test: more than the default on a loaded machine or MariaDB.
t.setTimeout(600_000);

async function setUp(t: Test) {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const billing = await ctx.services.departments.ensure('Billing');
  const agent = await createAgent(ctx.services, { name: 'Sam Support', departments: ['Support'] });
  const support = await ctx.services.departments.ensure('Support');
  const { ticket } = await ctx.services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'Refund', message: 'Please', source: 'web', departmentId: support.id });
  const b = new Browser(app);
  t.equal((await b.staffLogin(agent.username, agent.password)).statusCode, 302);
  await b.get(`/scp/tickets/${ticket.number}`);
  return { ctx, app, billing, agent, ticket, b };
}

t.test('assigning yourself and transferring out in one form is refused: the assignee must work in the new department', async (t) => {
  const { ctx, billing, agent, ticket, b } = await setUp(t);
  const res = await b.post(`/scp/tickets/${ticket.number}/properties`, { priority: '2', assigneeId: String(agent.principal.staffId), departmentId: String(billing.id) });
  t.equal(res.statusCode, 400);
  t.match(res.body, /does not work in the department/);
  const after = await ctx.services.tickets.findByNumber(ticket.number);
  t.match(after, { assigneeId: null, departmentId: ticket.departmentId }, 'nothing changed');
});

t.test('a transfer to a department the assignee is not in ends the assignment, audited, the agent told; access ends', async (t) => {
  const { ctx, billing, agent, ticket, b } = await setUp(t);
  await b.post(`/scp/tickets/${ticket.number}/properties`, { priority: '2', assigneeId: String(agent.principal.staffId), departmentId: String(ticket.departmentId) });
  t.equal((await ctx.services.tickets.findByNumber(ticket.number))?.assigneeId, agent.principal.staffId, 'assigned to self');
  await b.get(`/scp/tickets/${ticket.number}`);
  const res = await b.post(`/scp/tickets/${ticket.number}/properties`, { priority: '2', assigneeId: String(agent.principal.staffId), departmentId: String(billing.id) });
  t.equal(res.statusCode, 302);
  const after = await ctx.services.tickets.findByNumber(ticket.number);
  t.match(after, { assigneeId: null, departmentId: billing.id });
  const queue = await b.get(res.headers.location as string);
  t.match(queue.body, /You are no longer assigned/, 'told by the flash');
  t.equal((await b.get(`/scp/tickets/${ticket.number}`)).statusCode, 404, 'cannot read it any more');
  await b.get('/scp/tickets');
  const note = await b.post(`/scp/tickets/${ticket.number}/note`, { note: 'still here?' });
  t.equal(note.statusCode, 404, 'cannot write a note');
  const audit = await ctx.services.audit.forObject('ticket', ticket.id);
  t.ok(audit.some((a) => a.action === 'ticket.unassign' && a.details.from === agent.principal.staffId && a.details.reason === 'transfer'), 'recorded');
});

t.test('assigning someone who does not work in the department is refused with a validation error', async (t) => {
  const { ctx, ticket, b } = await setUp(t);
  const outsider = await createAgent(ctx.services, { departments: ['Billing'] });
  const res = await b.post(`/scp/tickets/${ticket.number}/properties`, { priority: '2', assigneeId: String(outsider.principal.staffId), departmentId: String(ticket.departmentId) });
  t.equal(res.statusCode, 400);
  t.match(res.body, /does not work in the ticket/);
  t.equal((await ctx.services.tickets.findByNumber(ticket.number))?.assigneeId, null);
});

t.test('removing an agent from a department ends their assignments there, audited, in the same save', async (t) => {
  const { ctx, app, billing, agent, ticket } = await setUp(t);
  await ctx.services.tickets.assign(agent.principal, ticket.number, agent.principal.staffId);
  const admin = await createAgent(ctx.services, { admin: true });
  const a = new Browser(app);
  await a.staffLogin(admin.username, admin.password);
  const form = await a.get(`/scp/admin/staff/${agent.principal.staffId}`);
  t.equal(form.statusCode, 200);
  const res = await a.post(`/scp/admin/staff/${agent.principal.staffId}`, {
    name: 'Sam Support', email: `${agent.username}@staff.test`, timezone: 'UTC', isActive: '1', dept: [String(billing.id)],
  });
  t.equal(res.statusCode, 302);
  t.equal((await ctx.services.tickets.findByNumber(ticket.number))?.assigneeId, null, 'unassigned');
  const audit = await ctx.services.audit.forObject('ticket', ticket.id);
  t.ok(audit.some((e) => e.action === 'ticket.unassign' && e.details.reason === 'department_membership' && e.staffId === admin.principal.staffId), 'recorded');
  const principal = (await ctx.services.staff.principal(agent.principal.staffId))!;
  t.notOk(await ctx.services.tickets.isVisible(principal, ticket.number), 'the agent no longer sees the ticket');
});
