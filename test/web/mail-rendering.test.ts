import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { fixture, send, startListener } from '../helpers/smtp.js';

const TO = ['support@helpdesk.test'];

t.test('mail HTML on the staff ticket page: hostile markup inert, cid images inline, remote images on request', async (t) => {
  const ctx = await createTestContext(t);
  const { services } = ctx;
  const app = await createTestApp(t, ctx);
  const { port } = await startListener(t, services);
  const agent = await createAgent(services);
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);

  t.equal((await send(port, fixture('adversarial.eml'), { from: 'mallory@example.com', to: TO })).code, 250);
  const evil = (await services.db.knex('tickets').orderBy('id', 'desc').first('number')).number as string;
  const page = await b.get(`/scp/tickets/${evil}`);
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-security-policy'], "script-src 'self'", 'CSP forbids inline script');
  t.match(page.headers['content-security-policy'], "img-src 'self' data:", 'and remote images');
  t.notMatch(page.body, /<script(?![^>]*\ssrc="\/)/i, 'no script element but our own static files');
  t.notMatch(page.body, /\son[a-z]+\s*=/i, 'no event handler attribute anywhere on the page');
  t.notMatch(page.body, /javascript:|data:text\/html/i, 'no script URLs');
  t.notMatch(page.body, /<(svg|iframe|form action="https|object|embed|math|meta http-equiv)/i, 'no foreign active elements');
  t.notMatch(page.body, /TITLE-LEAK|alert\(/, 'no script text');
  t.match(page.body, /<a href="https:\/\/example\.com\/ok" target="_blank" rel="noopener noreferrer nofollow">a fine link<\/a>/, 'harmless markup kept');

  t.equal((await send(port, fixture('inline-image.eml'), { from: 'ivan@example.com', to: TO })).code, 250);
  const shot = (await services.db.knex('tickets').orderBy('id', 'desc').first('number')).number as string;
  const withImage = await b.get(`/scp/tickets/${shot}`);
  const src = /<img src="(\/scp\/tickets\/\d+\/attachments\/\d+\/image)" alt="screenshot" \/>/.exec(withImage.body)?.[1];
  t.ok(src, 'the cid: image points at our stored attachment');
  const img = await b.get(src!);
  t.equal(img.statusCode, 200);
  t.equal(img.headers['content-type'], 'image/png');
  t.equal(img.headers['x-content-type-options'], 'nosniff');
  t.notMatch(withImage.body, /tracker\.example\.com/, 'remote image not loaded by default');
  const entryId = /href="\/scp\/tickets\/\d+\?images=(\d+)#entry-\d+">Show remote images</.exec(withImage.body)?.[1];
  t.ok(entryId, 'a "show remote images" action for the entry');
  const shown = await b.get(`/scp/tickets/${shot}?images=${entryId}`);
  t.match(shown.body, /<img src="https:\/\/tracker\.example\.com\/pixel\.gif"/);
  t.match(shown.headers['content-security-policy'], /img-src 'self' data: https:/, 'the CSP lets this page load them');
});
