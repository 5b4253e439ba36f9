import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { message } from '../helpers/smtp.js';

t.test('POST /api/tickets.email takes a raw message with an API key', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const { key } = await ctx.services.apiKeys.create({ name: 'mta' });
  const raw = message({ from: 'api@example.com', to: 'support@helpdesk.test', subject: 'Through the API', body: 'hello', messageId: 'api-1@example.com' });
  const post = (body: Buffer, apiKey: string | null = key) =>
    app.inject({ method: 'POST', url: '/api/tickets.email', payload: body, headers: { 'content-type': 'message/rfc822', ...(apiKey ? { 'x-api-key': apiKey } : {}) } });
  t.equal((await post(raw, null)).statusCode, 401, 'key required');
  const created = await post(raw);
  t.equal(created.statusCode, 201);
  const number = created.json().number as string;
  t.match(number, /^\d{8}$/);
  const dup = await post(raw);
  t.same([dup.statusCode, dup.json()], [200, { status: 'duplicate' }]);
  const ours = (await ctx.services.outbox.forTicket((await ctx.services.tickets.findByNumber(number))!.id))[0]!.messageId!;
  const reply = await post(message({ from: 'api@example.com', subject: 'Re: Through the API', body: 'more', messageId: 'api-2@example.com', headers: { 'In-Reply-To': `<${ours}>` } }));
  t.same([reply.statusCode, reply.json()], [200, { status: 'reply', number }]);
  const robot = await post(Buffer.from('From: a@example.com\r\nAuto-Submitted: auto-replied\r\nSubject: x\r\n\r\nbody\r\n'));
  t.same([robot.statusCode, robot.json().status], [202, 'dropped']);
  t.equal((await post(Buffer.alloc(0))).statusCode, 400);

  const agent = await createAgent(ctx.services);
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  t.match((await b.get(`/scp/tickets/${number}`)).body, 'more', 'the reply is on the ticket');
});
