import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { message, send, startListener, startSink, waitFor } from '../helpers/smtp.js';

/**
 * The whole mail loop as users live it: a customer mails support with a standard SMTP client, an agent
 * answers in the staff panel over HTTP, the answer leaves through the relay, the customer's reply to it
 * comes back over SMTP and lands on the same ticket.
 */
t.test('mail in, agent answers in the panel, mail out, reply lands on the same ticket', async (t) => {
  const sink = await startSink(t);
  const ctx = await createTestContext(t, { outboundSmtpUrl: sink.url });
  const { services } = ctx;
  const app = await createTestApp(t, ctx);
  const { port } = await startListener(t, services);
  const agent = await createAgent(services, { name: 'Alex Agent' });

  const first = message({ from: 'Cleo Customer <cleo@example.com>', subject: 'My order never arrived', body: 'Order 4711 is two weeks late.', messageId: 'cleo-1@mail.example.com' });
  t.equal((await send(port, first, { from: 'cleo@example.com', to: ['support@helpdesk.test'] })).code, 250);

  const b = new Browser(app);
  t.equal((await b.staffLogin(agent.username, agent.password)).statusCode, 302);
  const queue = await b.get('/scp/tickets?queue=open');
  const number = /\/scp\/tickets\/(\d+)"/.exec(queue.body)?.[1];
  t.ok(number, 'the ticket is in the open queue');
  const page = await b.get(`/scp/tickets/${number}`);
  t.match(page.body, 'Order 4711 is two weeks late.');
  const posted = await b.post(`/scp/tickets/${number}/reply`, { message: 'Sorry! A replacement ships today.', lastEntryId: /name="lastEntryId" value="(\d+)"/.exec(page.body)![1]! });
  t.equal(posted.statusCode, 302);

  // The scheduler's delivery job, as the leader node runs it.
  t.ok(await services.scheduler.tick());
  const answer = await waitFor(() => sink.messages.find((m) => m.envelope.to.includes('cleo@example.com') && /replacement ships today/.test(m.parsed.text ?? '')));
  t.equal(answer.parsed.subject, `Re: [#${number}] My order never arrived`);

  // Cleo's client replies the usual way: Re: subject, In-Reply-To and References from the mail she got.
  const refs = ([] as string[]).concat(answer.parsed.references ?? []);
  const reply = message({
    from: 'Cleo Customer <cleo@example.com>', subject: `Re: ${answer.parsed.subject}`, body: 'Great, thank you!\n\n> Sorry! A replacement ships today.', messageId: 'cleo-2@mail.example.com',
    headers: { 'In-Reply-To': answer.parsed.messageId!, References: [...refs, answer.parsed.messageId!].join(' ') },
  });
  t.equal((await send(port, reply, { from: 'cleo@example.com', to: ['support@helpdesk.test'] })).code, 250);

  const after = await b.get(`/scp/tickets/${number}`);
  t.match(after.body, 'Great, thank you!', 'the reply is on the same ticket');
  t.equal(Number((await services.db.knex('tickets').count({ n: '*' }).first())!.n), 1, 'and no other ticket was opened');
  const view = await services.tickets.view(agent.principal, number!);
  t.same(view.entries.map((e) => e.type), ['message', 'response', 'message']);
});
