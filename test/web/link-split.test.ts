import t, { type Test } from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

/** Linking related tickets and splitting an entry into a new ticket (issue 10, item 8). */
async function setup(t: Test) {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const alice = await createAgent(ctx.services, { name: 'Alice Agent' });
  const bob = await createAgent(ctx.services, { name: 'Bob Holder' });
  const a = new Browser(app);
  await a.staffLogin(alice.username, alice.password);
  const open = async (email: string, subject: string, departmentId?: number) =>
    (await ctx.services.tickets.create(null, { name: email.split('@')[0]!, email, subject, message: `${subject}: details`, source: 'web', ...(departmentId ? { departmentId } : {}) })).ticket;
  return { ctx, app, alice, bob, a, open };
}

t.test('link both ways, listed on both pages, unlink; history on both', async (t) => {
  const { ctx, a, open } = await setup(t);
  const one = await open('ann@example.com', 'Printer jam');
  const two = await open('ben@example.com', 'Printer offline');
  const sales = await ctx.services.departments.ensure('Sales');
  const hidden = await open('dan@example.com', 'Quote', sales.id);
  await a.get(`/scp/tickets/${one.number}`);

  const linked = await a.post(`/scp/tickets/${one.number}/links`, { linkNumber: `#${two.number}` });
  t.equal(linked.statusCode, 302);
  for (const [here, there] of [[one, two], [two, one]] as const) {
    const page = (await a.get(`/scp/tickets/${here.number}`)).body;
    t.match(page, new RegExp(`<a href="/scp/tickets/${there.number}">#${there.number}</a> ${there.subject}`), `#${here.number} lists #${there.number}`);
    t.match(page, new RegExp(`Alice Agent linked ticket <a href="/scp/tickets/${there.number}">#${there.number}</a>`), 'in its history');
  }
  t.equal((await a.post(`/scp/tickets/${one.number}/links`, { linkNumber: two.number })).statusCode, 302, 'linking again changes nothing');
  t.equal(Number((await ctx.services.db.knex('ticket_links').count({ n: '*' }).first())?.n), 2);

  for (const [input, error] of [
    [one.number, 'A ticket cannot be linked to itself.'],
    ['', 'Enter a ticket number.'],
    [hidden.number, `There is no ticket #${hidden.number} that you can see.`],
    ['abc', 'There is no ticket #abc that you can see.'],
  ] as const) {
    const bad = await a.post(`/scp/tickets/${one.number}/links`, { linkNumber: input });
    t.equal(bad.statusCode, 400, `refused: ${error}`);
    t.match(bad.body, error);
  }

  const unlinked = await a.post(`/scp/tickets/${two.number}/links/${one.number}/remove`, {});
  t.equal(unlinked.statusCode, 302);
  t.equal(Number((await ctx.services.db.knex('ticket_links').count({ n: '*' }).first())?.n), 0, 'gone both ways');
  const page = (await a.get(`/scp/tickets/${one.number}`)).body;
  t.match(page, 'No linked tickets.');
  t.match(page, new RegExp(`removed the link to ticket <a href="/scp/tickets/${two.number}">`));
  t.equal((await a.post(`/scp/tickets/${two.number}/links/${one.number}/remove`, {})).statusCode, 404, 'not linked: not found');
  t.equal((await a.post(`/scp/tickets/${one.number}/links`, { _csrf: 'forged', linkNumber: two.number })).statusCode, 403, 'CSRF checked');
});

t.test('split a message into a new ticket for the same requester and department, with its files', async (t) => {
  const { ctx, a, alice, bob, open } = await setup(t);
  const { services } = ctx;
  const ticket = await open('ann@example.com', 'Two problems');
  ctx.clock.advance(60_000);
  const { entryId } = await services.tickets.addInboundMessage(ticket.id, {
    name: 'ann', email: 'ann@example.com', bodyText: 'Also my mouse is broken.', bodyHtml: null, messageId: 'ann-2@example.com', source: 'email', agent: null, verification: 'unverified', fromNonParticipant: false,
    attachments: [{ filename: 'mouse.txt', contentType: 'text/plain', data: Buffer.from('click') }],
  });
  const page = (await a.get(`/scp/tickets/${ticket.number}`)).body;
  t.match(page, new RegExp(`action="/scp/tickets/${ticket.number}/entries/${entryId}/split"`), 'offered on a message');

  // Someone else's lock refuses it.
  await services.locks.acquire(bob.principal, ticket.number);
  const locked = await a.post(`/scp/tickets/${ticket.number}/entries/${entryId}/split`, {});
  t.equal(locked.statusCode, 409);
  t.match(locked.body, 'Bob Holder');
  ctx.clock.advance(10 * 60_000);

  const split = await a.post(`/scp/tickets/${ticket.number}/entries/${entryId}/split`, {});
  t.equal(split.statusCode, 302);
  const created = /\/scp\/tickets\/(\d+)$/.exec(split.headers.location as string)?.[1];
  t.ok(created && created !== ticket.number, 'to the new ticket');
  const fresh = await services.tickets.view(alice.principal, created!);
  t.equal(fresh.ticket.requesterEmail, 'ann@example.com', 'same requester');
  t.equal(fresh.ticket.departmentId, ticket.departmentId, 'same department');
  t.same(fresh.entries.map((e) => e.bodyText), ['Also my mouse is broken.']);
  t.same(fresh.entries[0]!.attachments.map((f) => f.filename), ['mouse.txt'], 'with its attachment');
  t.equal((await services.tickets.view(alice.principal, ticket.number)).entries.length, 1, 'gone from the old ticket');
  const newPage = (await a.get(`/scp/tickets/${created}`)).body;
  t.match(newPage, `The message is now ticket #${created}.`);
  t.match(newPage, new RegExp(`moved a message here from ticket <a href="/scp/tickets/${ticket.number}">`), 'history on the new ticket');
  t.match((await a.get(`/scp/tickets/${ticket.number}`)).body, new RegExp(`moved a message to the new ticket <a href="/scp/tickets/${created}">`), 'and on the old one');
  t.equal((await a.get(`/scp/tickets/${created}/attachments/${fresh.entries[0]!.attachments[0]!.id}`)).statusCode, 200, 'the file is served from the new ticket');

  // The last entry of a ticket, and a response, cannot be split off.
  const only = fresh.entries[0]!.id;
  const refused = await a.post(`/scp/tickets/${created}/entries/${only}/split`, {});
  t.equal(refused.statusCode, 409);
  t.match(refused.body, 'The ticket’s only entry cannot be split off.');
  const responseId = await services.tickets.respond(alice.principal, ticket.number, 'On it.');
  const response = await a.post(`/scp/tickets/${ticket.number}/entries/${responseId}/split`, {});
  t.equal(response.statusCode, 409);
  t.match(response.body, 'Only a requester’s message can be split into a new ticket.');
  t.equal((await a.post(`/scp/tickets/${created}/entries/${responseId}/split`, {})).statusCode, 404, 'an entry of another ticket: not found');
});
