import t from 'tap';
import { LANGUAGE_COOKIE } from '../../src/web/i18n.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

const ctx = await createTestContext(t);
const app = await createTestApp(t, ctx);
const { services } = ctx;

const lang = (body: string) => /<html lang="([^"]+)"/.exec(body)?.[1];

/** A page in each language: its title, some text, and the language switcher naming the others in their own words. */
const PAGES: Record<string, Array<[string, RegExp[]]>> = {
  da: [
    ['/', [/<title>Hjælpecenter ·/, /Hvordan kan vi hjælpe\?/, /Opret en ny sag/]],
    ['/tickets/new', [/<title>Opret en ny sag ·/, /<legend>Om dig<\/legend>/, /Dit navn/, />Opret sag<\/button>/]],
    ['/tickets/status', [/<title>Se status på en sag ·/, /Sagsnummer/, /For eksempel 12345678\./]],
    ['/tickets', [/<title>Mine sager ·/, /Du er ikke logget ind\./, /<a href="\/tickets\/status">slå dens status op<\/a>/]],
    ['/no-such-page', [/Der er ingen side på denne adresse\./]],
  ],
  et: [
    ['/', [/<title>Abikeskus ·/, /Kuidas saame aidata\?/, /Esita uus pöördumine/]],
    ['/tickets/new', [/<title>Esita uus pöördumine ·/, /<legend>Teie andmed<\/legend>/, /Teie nimi/]],
    ['/tickets/status', [/<title>Vaata pöördumise olekut ·/, /Pöördumise number/]],
    ['/tickets', [/<title>Minu pöördumised ·/, /Te ei ole sisse logitud\./]],
  ],
};

for (const [code, pages] of Object.entries(PAGES)) {
  t.test(`the portal in ${code} by Accept-Language`, async (t) => {
    const b = new Browser(app);
    for (const [path, expected] of pages) {
      const res = await b.get(path, { 'accept-language': `${code}-XX;q=0.9, fr;q=0.8` });
      t.equal(lang(res.body), code, `${path}: <html lang="${code}">`);
      for (const re of expected) t.match(res.body, re, `${path}: ${re.source}`);
      t.match(res.body, /<button [^>]*value="da" lang="da"[^>]*>Dansk<\/button>/, `${path}: the switcher names Danish in Danish`);
      t.match(res.body, /<button [^>]*value="et" lang="et"[^>]*>Eesti<\/button>/, `${path}: and Estonian in Estonian`);
    }
  });
}

t.test('an unknown Accept-Language falls back to the site default', async (t) => {
  const res = await new Browser(app).get('/', { 'accept-language': 'tlh, x-klingon;q=0.5, ;;;' });
  t.equal(res.statusCode, 200);
  t.equal(lang(res.body), 'en');
  t.match(res.body, /How can we help\?/);
});

t.test('the language switcher: a CSRF-checked POST remembered in a cookie, then back to the page', async (t) => {
  for (const code of ['da', 'et']) {
    const b = new Browser(app);
    await b.get('/tickets/status', { 'accept-language': 'en' });
    const switched = await b.post('/language', { language: code, back: '/tickets/status' });
    t.equal(switched.statusCode, 302);
    t.equal(switched.headers.location, '/tickets/status', 'back to the page');
    t.equal(b.cookies.get(LANGUAGE_COOKIE), code, `${code} remembered`);
    const page = await b.get('/tickets/status', { 'accept-language': 'en' });
    t.equal(lang(page.body), code, 'the choice wins over Accept-Language');
    t.match(page.body, code === 'da' ? /Se status på en sag/ : /Vaata pöördumise olekut/);
    t.match(page.body, new RegExp(`value="${code}" lang="${code}" aria-current="true" disabled`), 'the current language is marked');
  }

  const noToken = new Browser(app);
  await noToken.get('/');
  const refused = await noToken.post('/language', { language: 'da', back: '/', _csrf: '' });
  t.equal(refused.statusCode, 403, 'a POST without the CSRF token is refused');
  t.notOk(noToken.cookies.has(LANGUAGE_COOKIE), 'and changes nothing');
  t.equal((await noToken.get('/language')).statusCode, 404, 'there is no GET that switches');

  const b = new Browser(app);
  await b.get('/');
  await b.post('/language', { language: 'da', back: '/' });
  const unknown = await b.post('/language', { language: 'xx-bogus', back: '/tickets/new' });
  t.equal(unknown.statusCode, 302, 'an unknown code is no error');
  t.equal(unknown.headers.location, '/tickets/new');
  t.equal(b.cookies.get(LANGUAGE_COOKIE), 'da', 'and leaves the choice as it was');

  for (const back of ['//evil.example/', 'https://evil.example/', '/\\evil.example', 'tickets', '']) {
    const res = await b.post('/language', { language: 'et', back });
    t.equal(res.headers.location, '/', `back=${JSON.stringify(back)} goes to the front page, never off-site`);
  }
  const badCookie = await new Browser(app).get('/', { cookie: `${LANGUAGE_COOKIE}=zz`, 'accept-language': 'et' });
  t.equal(lang(badCookie.body), 'et', 'a cookie naming no language is passed over');
});

t.test('a ticket opened in Estonian gets an Estonian notice, and the switcher changes the requester’s language', async (t) => {
  const b = new Browser(app);
  await b.get('/tickets/new', { 'accept-language': 'et' });
  await b.post('/language', { language: 'et', back: '/tickets/new' });
  const invalid = await b.post('/tickets/new', { name: 'Mari', email: 'not-an-address', subject: 'Printer', message: 'Ei prindi.' });
  t.equal(invalid.statusCode, 400);
  t.equal(lang(invalid.body), 'et');
  t.match(invalid.body, 'Palun parandage allpool märgitud väljad.', 'the form says what to do in Estonian');
  t.match(invalid.body, 'value="Mari"', 'values kept');

  const created = await b.post('/tickets/new', { name: 'Mari', email: 'mari@example.ee', subject: 'Printer', message: 'Ei prindi.' });
  t.equal(created.statusCode, 302);
  const number = /\/tickets\/(\d+)\/created/.exec(String(created.headers.location))![1]!;
  const page = await b.get(`/tickets/${number}/created`);
  t.match(page.body, `<title>Pöördumine #${number} on vastu võetud ·`);
  t.match(page.body, `Teie pöördumise number on <strong>#${number}</strong>.`);
  t.match(page.body, 'Saatsime kinnituse aadressile <strong>mari@example.ee</strong>');

  const user = (await services.users.findByEmail('mari@example.ee'))!;
  t.equal(user.language, 'et', 'the requester’s language is the one they used the portal in');
  const ticket = (await services.tickets.findByNumber(number))!;
  const notice = (await services.outbox.forTicket(ticket.id)).find((m) => m.kind === 'ticket_created')!;
  t.match(notice.bodyText, /^##- Palun kirjutage oma vastus selle rea kohale -##/);
  t.match(notice.bodyText, 'Lugupeetud Mari');
  t.match(notice.bodyText, `registreerisime selle numbriga #${number}`);
  t.match(notice.bodyHtml, />veebis<\/a>/);
  t.equal(notice.headers['Content-Language'], 'et');

  const view = await b.get(`/tickets/${number}`);
  t.match(view.body, `<title>Pöördumine #${number}: Printer ·`);
  t.match(view.body, /esitatud <time datetime="[^"]+" title="[^"]+">[^<]+<\/time>/, 'the time where the sentence puts it');
  t.match(view.body, '>Saada vastus</button>');

  // Signed in to the ticket, switching to Danish changes the language of their next notices.
  const back = await b.post('/language', { language: 'da', back: `/tickets/${number}` });
  t.equal(back.headers.location, `/tickets/${number}`);
  t.equal((await services.users.findByEmail('mari@example.ee'))!.language, 'da', 'stored on the requester');
  t.match((await b.get(`/tickets/${number}`)).body, `<title>Sag #${number}: Printer ·`);

  // A visitor who opens another ticket from the same address in English makes English their language again.
  const other = new Browser(app);
  await other.get('/tickets/new', { 'accept-language': 'en' });
  t.equal((await other.post('/tickets/new', { name: 'Mari', email: 'mari@example.ee', subject: 'Again', message: 'Hello' })).statusCode, 302);
  t.equal((await services.users.findByEmail('mari@example.ee'))!.language, 'en');
});

t.test('a resolved ticket says so in the reader’s language, and the rate limit counts minutes in it', async (t) => {
  const b = new Browser(app);
  await b.get('/');
  await b.post('/language', { language: 'da', back: '/' });
  await b.get('/tickets/new');
  const created = await b.post('/tickets/new', { name: 'Jens', email: 'jens@example.dk', subject: 'Skærm', message: 'Sort skærm.' });
  const number = /\/tickets\/(\d+)\/created/.exec(String(created.headers.location))![1]!;
  await services.db.knex('tickets').where({ number }).update({ status: 'resolved' });
  const page = await b.get(`/tickets/${number}`);
  t.match(page.body, 'Sagen er løst. Hvis du svarer, åbnes den igen.');

  const limited = await createTestContext(t, { portal: { ticketsPerHourPerAddress: 1 } });
  const flood = new Browser(await createTestApp(t, limited));
  await flood.get('/tickets/new', { 'accept-language': 'da' });
  await flood.post('/language', { language: 'da', back: '/tickets/new' });
  t.equal((await flood.post('/tickets/new', { name: 'A', email: 'a@example.dk', subject: 'Første', message: 'Hej' })).statusCode, 302);
  await flood.get('/tickets/new');
  const refused = await flood.post('/tickets/new', { name: 'A', email: 'a@example.dk', subject: 'Anden', message: 'Min tekst' });
  t.equal(refused.statusCode, 429);
  t.match(refused.body, /send den igen om cirka 60 minutter,/, 'the wait in Danish, plural and all');
  t.match(refused.body, 'Min tekst', 'the text kept');
});

t.test('signing in by access link or status check brings the requester’s stored language to a new browser', async (t) => {
  const { principal } = await createAgent(services);
  const { ticket } = await services.tickets.create(principal, { name: 'Mette', email: 'mette@example.dk', subject: 'Skærm', message: 'Sort', source: 'phone' });
  await services.users.setLanguage(ticket.userId, 'da');
  const english = { 'accept-language': 'en' };

  const linked = new Browser(app);
  await linked.get(services.tickets.accessLink((await services.tickets.findByNumber(ticket.number))!).replace('http://helpdesk.test', ''), english);
  t.match((await linked.get(`/tickets/${ticket.number}`, english)).body, `<title>Sag #${ticket.number}: Skærm ·`, 'the access link: Danish in an English browser');

  const checked = new Browser(app);
  await checked.get('/tickets/status', english);
  await checked.post('/tickets/status', { email: 'mette@example.dk', number: ticket.number });
  t.match((await checked.get(`/tickets/${ticket.number}`, english)).body, `<title>Sag #${ticket.number}: Skærm ·`, 'the status check: Danish too');

  const chose = new Browser(app);
  await chose.get('/', english);
  await chose.post('/language', { language: 'et', back: '/' });
  await chose.get(services.tickets.accessLink((await services.tickets.findByNumber(ticket.number))!).replace('http://helpdesk.test', ''));
  t.match((await chose.get(`/tickets/${ticket.number}`)).body, `<title>Pöördumine #${ticket.number}: Skærm ·`, 'a browser that chose with the switcher keeps its choice');
});
