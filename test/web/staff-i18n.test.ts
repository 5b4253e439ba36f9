import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp, fieldError } from '../helpers/http.js';

const ctx = await createTestContext(t);
const app = await createTestApp(t, ctx);
const { services } = ctx;

/** An agent whose stored language is `language`, signed in. */
async function agentIn(language: string | null) {
  const agent = await createAgent(services);
  await services.staff.updatePreferences(agent.principal, { timezone: 'Europe/Copenhagen', language }, (code) => services.i18n.supported(code));
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  return { agent, b };
}


// Words each page must show in the agent's language, and English ones it must not.
const PAGES = {
  da: {
    queue: ['Åbne sager', 'Mine sager', 'Log ud'],
    ticket: ['Svar', 'Intern note', 'Tilføj note', 'Gem ændringer', 'Afdeling', 'Anmoder', 'Normal'],
    newTicket: ['Ny sag', 'Anmoder', 'Hjælpeemne', 'Opret sag'],
    preferences: ['Mine indstillinger', 'Sprog', 'Tidszone', 'Skift adgangskode'],
    english: ['Sign out', 'Internal note', 'Save changes'],
  },
  et: {
    queue: ['Avatud pöördumised', 'Minu pöördumised', 'Logi välja'],
    ticket: ['Sisemärkus', 'Lisa märkus', 'Salvesta muudatused', 'Osakond', 'Pöörduja', 'Tavaline'],
    newTicket: ['Uus pöördumine', 'Pöörduja', 'Abiteema', 'Loo pöördumine'],
    preferences: ['Minu eelistused', 'Keel', 'Ajavöönd', 'Muuda parooli'],
    english: ['Sign out', 'Internal note', 'Save changes'],
  },
} as const;

for (const [lang, words] of Object.entries(PAGES)) {
  t.test(`the staff panel speaks the agent's language: ${lang}`, async (t) => {
    const { b } = await agentIn(lang);
    const queue = await b.get('/scp/tickets');
    t.equal(queue.statusCode, 200);
    t.match(queue.body, `<html lang="${lang}" dir="ltr">`);
    for (const w of words.queue) t.match(queue.body, w, `queue: ${w}`);

    const { ticket } = await services.tickets.create(null, { name: 'Rita Requester', email: 'rita@example.com', subject: 'Printer', message: 'It jams', source: 'web' });
    const page = await b.get(`/scp/tickets/${ticket.number}`);
    t.equal(page.statusCode, 200);
    t.match(page.body, `<html lang="${lang}"`);
    for (const w of [...words.ticket, ...words.queue.slice(2)]) t.match(page.body, w, `ticket: ${w}`);
    for (const w of words.english) t.notMatch(page.body, w, `no English: ${w}`);

    const fresh = await b.get('/scp/tickets/new');
    for (const w of words.newTicket) t.match(fresh.body, w, `new ticket: ${w}`);

    const prefs = await b.get('/scp/preferences');
    for (const w of words.preferences) t.match(prefs.body, w, `preferences: ${w}`);
    t.match(prefs.body, /<option value="da"[^>]*>Dansk<\/option>/, 'languages by their own names');
    t.match(prefs.body, /<option value="et"[^>]*>Eesti<\/option>/);
    t.match(prefs.body, new RegExp(`<option value="${lang}" selected>`), 'the stored language is chosen');
  });
}

t.test('the login page follows the browser before anyone signs in', async (t) => {
  const b = new Browser(app);
  const da = await b.get('/scp/login', { 'accept-language': 'da-DK,da;q=0.9,en;q=0.5' });
  t.match(da.body, '<html lang="da"');
  t.match(da.body, 'Log ind som medarbejder');
  t.match(da.body, 'Adgangskode');
  const et = await b.get('/scp/login', { 'accept-language': 'et' });
  t.match(et.body, 'Logi sisse tugispetsialistina');
  const refused = await b.post('/scp/login', { login: 'nobody', password: 'wrong password' });
  t.equal(refused.statusCode, 401);
  t.match(refused.body, 'Wrong username or password.', 'no language asked for on this request: the site default');
});

t.test('a refused new ticket comes back in Danish with the values kept', async (t) => {
  const { b } = await agentIn('da');
  await b.get('/scp/tickets/new');
  const bad = await b.post('/scp/tickets/new', { email: 'not an email', name: 'Søren', subject: 'Skærmen er sort', message: '' });
  t.equal(bad.statusCode, 400);
  t.match(bad.body, '<html lang="da"');
  t.match(bad.body, /Ret venligst de \d+ felter, der er markeret nedenfor\./);
  t.match(bad.body, 'value="Skærmen er sort"', 'subject kept');
  t.match(bad.body, 'value="Søren"', 'name kept');
  t.match(bad.body, 'value="not an email"', 'e-mail kept');
  t.ok(fieldError(bad.body, 'email'), 'the e-mail field says what is wrong');
  t.match(bad.body, 'Opret sag');
});

t.test('field errors of the staff services are said in the agent’s language', async (t) => {
  const { b } = await agentIn('da');
  await b.get('/scp/preferences');
  const bad = await b.post('/scp/preferences/password', { current: 'not it', password: 'short', password2: 'short' });
  t.equal(bad.statusCode, 400);
  t.equal(fieldError(bad.body, 'current'), 'Det er ikke din nuværende adgangskode.');
  t.equal(fieldError(bad.body, 'password'), 'Brug mindst 10 tegn.');

  const { b: et } = await agentIn('et');
  await et.get('/scp/preferences');
  const mismatch = await et.post('/scp/preferences/password', { current: 'correct horse battery', password: 'long enough 1', password2: 'long enough 2' });
  t.equal(fieldError(mismatch.body, 'password2'), 'Paroolid ei kattu.');
});

t.test('an agent chooses a language; the panel changes at once; an unknown code is a field error', async (t) => {
  const { agent, b } = await agentIn(null);
  const before = await b.get('/scp/preferences');
  t.match(before.body, '<html lang="en"', 'the site default until chosen');
  const select = /<select id="f-language"[^]*?<\/select>/.exec(before.body)?.[0] ?? '';
  t.match(select, '<option value="">Site default</option>');
  t.notMatch(select, 'selected', 'so "Site default" is the one shown');

  const saved = await b.post('/scp/preferences', { timezone: 'Europe/Tallinn', language: 'et' });
  t.equal(saved.statusCode, 302);
  t.equal((await services.staff.get(agent.principal.staffId)).language, 'et');
  const after = await b.get('/scp/preferences');
  t.match(after.body, '<html lang="et"');
  t.match(after.body, 'Eelistused on salvestatud. Ajad kuvatakse nüüd ajavööndis Europe/Tallinn.', 'the flash is in the new language');

  const upper = await b.post('/scp/preferences', { timezone: 'Europe/Tallinn', language: 'DA' });
  t.equal(upper.statusCode, 302);
  t.equal((await services.staff.get(agent.principal.staffId)).language, 'da', 'a code is stored as the site names it');

  const unknown = await b.post('/scp/preferences', { timezone: 'Europe/Tallinn', language: 'xx' });
  t.equal(unknown.statusCode, 400);
  t.equal(fieldError(unknown.body, 'language'), 'Vælg et sprog fra listen.', 'refused, in the language still stored');
  t.equal((await services.staff.get(agent.principal.staffId)).language, 'da', 'nothing saved');

  const both = await b.post('/scp/preferences', { timezone: 'Mars/Olympus', language: 'xx' });
  t.ok(fieldError(both.body, 'timezone') && fieldError(both.body, 'language'), 'every problem at once');

  t.equal((await b.post('/scp/preferences', { timezone: 'Europe/Tallinn', language: '' })).statusCode, 302);
  t.equal((await services.staff.get(agent.principal.staffId)).language, null, 'back to the site default');
  t.match((await b.get('/scp/tickets')).body, '<html lang="en"');
});

t.test('lock texts and times are in the agent’s language', async (t) => {
  const { agent: holder, b: holderBrowser } = await agentIn('en');
  const { b } = await agentIn('da');
  const { ticket } = await services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'Låst', message: 'm', source: 'web' });
  await holderBrowser.get(`/scp/tickets/${ticket.number}`);
  await holderBrowser.post(`/scp/tickets/${ticket.number}/lock/take`, {});
  const page = await b.get(`/scp/tickets/${ticket.number}`);
  t.match(page.body, new RegExp(`<strong>${holder.principal.name}</strong> besvarer denne sag: låst siden \\d\\d[.:]\\d\\d`), 'the lock, with clock times');
  t.match(page.body, 'data-text-other="&lt;strong&gt;{name}&lt;/strong&gt; besvarer denne sag', 'the script’s template');
  await b.post(`/scp/tickets/${ticket.number}/lock/take`, {});
  const refused = await b.get(`/scp/tickets/${ticket.number}`);
  t.match(refused.body, new RegExp(`${holder.principal.name} arbejder på denne sag \\(låst siden \\d\\d[.:]\\d\\d .+, indtil`), 'the refused take, in Danish');
});
