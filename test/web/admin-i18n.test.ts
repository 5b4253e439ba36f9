import t, { type Test } from 'tap';
import { DIRECTORY_REFRESH_MS } from '../../src/directory/directory-cache.js';
import { DEFAULT_LANGUAGE_SETTING } from '../../src/i18n/load.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { LANGUAGE_COOKIE } from '../../src/web/i18n.js';
import { createTestContext, FrozenClock } from '../helpers/context.js';
import { Browser, createTestApp, fieldError, signedInAdmin } from '../helpers/http.js';

async function adminBrowser(t: Test) {
  const { ctx, app, admin, b } = await signedInAdmin(t);
  const id = admin.principal.staffId;
  const support = await ctx.services.departments.ensure('Support');
  /** The administrator's own language, set through the staff form as any administrator would. */
  const chooseLanguage = async (language: string) => {
    await b.get(`/scp/admin/staff/${id}`);
    return b.post(`/scp/admin/staff/${id}`, { name: 'Ada Admin', email: `${admin.username}@staff.test`, timezone: 'UTC', language, isAdmin: '1', isActive: '1', dept: String(support.id) });
  };
  return { ctx, app, admin, b, chooseLanguage };
}

// Each page with a phrase only its translation has: the page went through the catalog, not English.
const PAGES: Record<'da' | 'et', Array<[string, string]>> = {
  da: [
    ['/scp/admin/', 'supportadresserne'],
    ['/scp/admin/staff', '<title>Medarbejderoversigt ·'],
    ['/scp/admin/staff/new', 'Opret medarbejder'],
    ['/scp/admin/departments', 'Åbne sager'],
    ['/scp/admin/departments/new', 'Opret afdeling'],
    ['/scp/admin/schedules/new', 'Flere rækker: Mandag'],
    ['/scp/admin/mailboxes', 'Ny postkasse'],
    ['/scp/admin/mailboxes/new', 'Prioritet for nye sager'],
    ['/scp/admin/outbox', 'Ingen ventende mail.'],
    ['/scp/admin/quarantine', 'Karantænen er tom.'],
    ['/scp/admin/bans', 'Bloker en afsender'],
    ['/scp/admin/api-keys', 'Ingen API-nøgler endnu.'],
    ['/scp/admin/settings', 'Standardsprog'],
  ],
  et: [
    ['/scp/admin/', 'tugiaadressid'],
    ['/scp/admin/staff', '<title>Tugispetsialistid ·'],
    ['/scp/admin/staff/new', 'Loo tugispetsialist'],
    ['/scp/admin/departments', 'Avatud pöördumised'],
    ['/scp/admin/departments/new', 'Loo osakond'],
    ['/scp/admin/schedules/new', 'Lisa ridu: Esmaspäev'],
    ['/scp/admin/mailboxes', 'Uus postkast'],
    ['/scp/admin/mailboxes/new', 'Uute pöördumiste prioriteet'],
    ['/scp/admin/outbox', 'Ootel kirju pole.'],
    ['/scp/admin/quarantine', 'Karantiin on tühi.'],
    ['/scp/admin/bans', 'Blokeeri saatja'],
    ['/scp/admin/api-keys', 'API-võtmeid veel pole.'],
    ['/scp/admin/settings', 'Vaikekeel'],
  ],
};

t.test('an administrator who chose Danish, then Estonian, gets every admin page in that language', async (t) => {
  const { b, chooseLanguage } = await adminBrowser(t);
  t.match((await b.get('/scp/admin/staff')).body, '<title>Staff directory ·', 'English before any choice');
  for (const lang of ['da', 'et'] as const) {
    t.equal((await chooseLanguage(lang)).statusCode, 302, `${lang} saved`);
    for (const [url, phrase] of PAGES[lang]) {
      const page = await b.get(url);
      t.equal(page.statusCode, 200, `${lang} ${url}`);
      t.match(page.body, `<html lang="${lang}"`, `${lang} ${url}: lang`);
      t.match(page.body, phrase, `${lang} ${url}`);
    }
  }
  const form = await b.get('/scp/admin/staff/new');
  t.match(form.body, '<option value="">Saidi vaikekeel (English)</option>', 'the site default is offered, naming it');
  t.match(form.body, '<option value="da">Dansk</option>', 'languages by their own names');
});

t.test('the staff form stores an agent language, or the site default, and refuses an unknown code', async (t) => {
  const { ctx, b } = await adminBrowser(t);
  const support = await ctx.services.departments.ensure('Support');
  await b.get('/scp/admin/staff/new');
  const fields = { username: 'lars', name: 'Lars', email: 'lars@example.com', password: 'long enough password', timezone: 'Europe/Copenhagen', dept: String(support.id) };
  const bad = await b.post('/scp/admin/staff/new', { ...fields, language: 'xx' });
  t.equal(bad.statusCode, 400);
  t.equal(fieldError(bad.body, 'language'), 'Choose a value from the list.');
  t.match(bad.body, 'value="lars"', 'values kept');
  t.equal((await ctx.services.staff.list()).filter((s) => s.username === 'lars').length, 0, 'nothing created');

  t.equal((await b.post('/scp/admin/staff/new', { ...fields, language: 'DA-dk' })).statusCode, 302);
  const lars = (await ctx.services.staff.list()).find((s) => s.username === 'lars')!;
  t.equal(lars.language, 'da', 'stored as the offered code');
  t.match((await b.get(`/scp/admin/staff/${lars.id}`)).body, '<option value="da" selected>Dansk</option>');

  t.equal((await b.post(`/scp/admin/staff/${lars.id}`, { ...fields, language: '', isActive: '1' })).statusCode, 302);
  t.equal((await ctx.services.staff.get(lars.id)).language, null, 'back to the site default');
});

t.test('validation errors in Danish, with the values kept', async (t) => {
  const { ctx, b, chooseLanguage } = await adminBrowser(t);
  await chooseLanguage('da');

  // Counts through ICU plural and select, not glued fragments.
  const support = (await ctx.services.departments.defaultDepartment())!;
  const archive = await b.get(`/scp/admin/departments/${support.id}/archive`);
  t.match(archive.body, 'Den bruges af 1 postkasse og 1 hjælpeemne, og den er standardafdeling.');
  const refused = await b.post(`/scp/admin/departments/${support.id}/archive`, { targetId: '', action: 'archive' });
  t.equal(refused.statusCode, 400);
  t.equal(fieldError(refused.body, 'targetId'), 'Vælg den afdeling, der overtager dens postkasser og hjælpeemner.');

  await b.get('/scp/admin/departments/new');
  const dept = await b.post('/scp/admin/departments/new', { name: '  ', signature: 'x'.repeat(2001) });
  t.equal(dept.statusCode, 400);
  t.match(dept.body, 'Ret de markerede felter herunder.');
  t.equal(fieldError(dept.body, 'name'), 'Indtast et navn.');
  t.equal(fieldError(dept.body, 'signature'), 'Højst 2.000 tegn.');
  t.match(dept.body, `>${'x'.repeat(2001)}</textarea>`, 'signature kept');

  await b.get('/scp/admin/mailboxes/new');
  const box = await b.post('/scp/admin/mailboxes/new', { localPart: 'sales+x', departmentId: '999999', topicId: '', defaultPriority: '2' });
  t.equal(box.statusCode, 400);
  t.equal(fieldError(box.body, 'localPart'), 'Brug bogstaver, tal, punktummer, bindestreger eller understregninger (ikke &quot;+&quot;).');
  t.equal(fieldError(box.body, 'departmentId'), 'Vælg en afdeling på listen.');
  t.match(box.body, 'value="sales+x"', 'address kept');

  await b.get('/scp/admin/bans');
  const ban = await b.post('/scp/admin/bans', { pattern: 'not a domain', note: 'spam' });
  t.equal(ban.statusCode, 400);
  t.equal(fieldError(ban.body, 'pattern'), 'Indtast en e-mailadresse eller et domæne.');
  t.match(ban.body, 'value="spam"', 'note kept');

  await b.get('/scp/admin/api-keys');
  const key = await b.post('/scp/admin/api-keys', { name: 'Shop', ip: '10.0.0.300' });
  t.equal(key.statusCode, 400);
  t.equal(fieldError(key.body, 'ip'), '&quot;10.0.0.300&quot; er ikke en IP-adresse.');
});

t.test('the site default language: chosen on the settings page, seen by signed-out visitors, refused when unknown', async (t) => {
  const { ctx, app, b } = await adminBrowser(t);
  const { services } = ctx;
  const page = await b.get('/scp/admin/settings');
  t.match(page.body, '<option value="en" selected>English</option>', 'the current choice: the configured default');
  const support = (await services.departments.defaultDepartment())!;
  const versionBefore = await services.directory.currentVersion();

  const bad = await b.post('/scp/admin/settings', { defaultDepartmentId: String(support.id), defaultLanguage: 'xx' });
  t.equal(bad.statusCode, 400);
  t.equal(fieldError(bad.body, 'defaultLanguage'), 'Choose a value from the list.');
  t.equal(await services.settings.get(DEFAULT_LANGUAGE_SETTING), null, 'nothing stored');

  const unchanged = await b.post('/scp/admin/settings', { defaultDepartmentId: String(support.id), defaultLanguage: 'en' });
  t.equal(unchanged.statusCode, 302);
  t.equal(await services.settings.get(DEFAULT_LANGUAGE_SETTING), null, 'the configured default is not pinned into the database');

  const saved = await b.post('/scp/admin/settings', { defaultDepartmentId: String(support.id), defaultLanguage: 'da' });
  t.equal(saved.statusCode, 302);
  t.equal(await services.settings.get(DEFAULT_LANGUAGE_SETTING), 'da');
  t.ok((await services.directory.currentVersion()) > versionBefore, 'the directory version was raised');
  t.equal(await services.siteLanguage(), 'da');
  t.ok(await services.db.q('audit_log').where({ action: 'settings.default_language' }).first(), 'audited');

  const after = await b.get('/scp/admin/settings');
  t.match(after.body, '<html lang="da"', 'an administrator without a choice of their own follows the site');
  t.match(after.body, '<option value="da" selected>Dansk</option>');

  const visitor = new Browser(app);
  t.match((await visitor.get('/scp/login')).body, '<html lang="da"', 'a visitor without Accept-Language gets the site default');
  t.match((await visitor.get('/scp/login', { 'accept-language': 'et-EE,et;q=0.9' })).body, '<html lang="et"', 'Accept-Language still wins');
  t.match((await visitor.get('/scp/login', { 'accept-language': 'xx, zz;q=0.5' })).body, '<html lang="da"', 'unknown codes fall back to the site default');
});

t.test('another node reads the new site language within DIRECTORY_REFRESH_MS', async (t) => {
  const { ctx, b } = await adminBrowser(t);
  const clock = new FrozenClock();
  const other = createServices({ db: ctx.services.db, clock, config: ctx.config, log: createLogger('silent'), secrets: ctx.services.secrets });
  t.equal(await other.siteLanguage(), 'en');
  const support = (await ctx.services.departments.defaultDepartment())!;
  await b.get('/scp/admin/settings');
  t.equal((await b.post('/scp/admin/settings', { defaultDepartmentId: String(support.id), defaultLanguage: 'et' })).statusCode, 302);
  clock.advance(DIRECTORY_REFRESH_MS);
  t.equal(await other.siteLanguage(), 'et');
});

t.test('the first-run form in the language the visitor chose', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const token = (await ctx.services.setup.issueToken())!;
  const b = new Browser(app);
  b.cookies.set(LANGUAGE_COOKIE, 'da');
  const form = await b.get(`/scp/setup?token=${token}`);
  t.match(form.body, 'Opret den første administrator');
  const bad = await b.post('/scp/setup', { token, name: 'Root', email: 'root@example.com', username: 'root', password: 'long enough password', password2: 'something else', timezone: 'UTC' });
  t.equal(bad.statusCode, 400);
  t.equal(fieldError(bad.body, 'password2'), 'Adgangskoderne er ikke ens.');
  t.match(bad.body, 'Ret venligst feltet, der er markeret nedenfor.');
  t.match(bad.body, 'value="root@example.com"', 'values kept');
  const done = await b.post('/scp/setup', { token, name: 'Root', email: 'root@example.com', username: 'root', password: 'long enough password', password2: 'long enough password', timezone: 'UTC' });
  t.equal(done.statusCode, 302);
  t.match((await b.get('/scp/tickets?queue=open')).body, '<html lang="da"', 'the administrator works in the language they set up in');
  t.equal((await ctx.services.staff.principal((await ctx.services.db.knex('staff').where({ username: 'root' }).first('id')).id))?.language, 'da');
});
