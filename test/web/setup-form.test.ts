import t from 'tap';
import { createDatabase } from '../../src/db/database.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

const errorsShown = (body: string) => [...body.matchAll(/<p class="error" id="e-([a-z0-9]+)">/g)].map((m) => m[1]).sort();

t.test('the first-run form lists every problem on the first submit and offers time zones as a list', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const token = (await ctx.services.setup.issueToken())!;
  const b = new Browser(app);
  const form = await b.get(`/scp/setup?token=${token}`);
  t.equal(form.statusCode, 200);
  t.match(form.body, /<select id="f-timezone" name="timezone"/, 'a choice list, not free text');
  t.match(form.body, '<option value="Europe/Berlin">Europe/Berlin</option>');
  t.match(form.body, '<option value="UTC" selected>UTC</option>', 'UTC without the browser’s help');
  t.match(form.body, /<script src="\/assets\/js\/browser-zone\.js\?v=[0-9a-f]+" defer><\/script>/, 'a script file preselects the browser’s zone');
  t.match(form.body, 'data-browser-zone');

  const bad = await b.post('/scp/setup', { token, name: '', email: 'nope', username: 'Bad Name!', password: 'short', password2: 'different', timezone: 'Mars/Olympus' });
  t.equal(bad.statusCode, 400);
  t.same(errorsShown(bad.body), ['email', 'name', 'password', 'password2', 'timezone', 'username'], 'all six problems at once');
  t.match(bad.body, 'Please correct the 6 fields marked below.');
  t.notMatch(bad.body, 'data-browser-zone', 'a re-shown form keeps the chosen zone instead of guessing again');

  const mismatchOnly = await b.post('/scp/setup', { token, name: 'Admin', email: 'admin@example.com', username: 'admin', password: 'long enough password', password2: 'long enough passwort', timezone: 'Europe/Berlin' });
  t.equal(mismatchOnly.statusCode, 400);
  t.same(errorsShown(mismatchOnly.body), ['password2']);
  t.match(mismatchOnly.body, '<option value="Europe/Berlin" selected>', 'the chosen zone is kept');
  t.equal(await ctx.services.staff.hasAnyStaff(), false, 'nothing created');

  const ok = await b.post('/scp/setup', { token, name: 'Admin', email: 'admin@example.com', username: 'admin', password: 'long enough password', password2: 'long enough password', timezone: 'Europe/Berlin' });
  t.equal(ok.statusCode, 302);
  const admin = (await ctx.services.staff.list())[0]!;
  t.equal(admin.timezone, 'Europe/Berlin');
});

t.test('nodes starting together on an empty database print one link, which works on each; expiry brings a new one', async (t) => {
  const ctx = await createTestContext(t);
  const otherDb = createDatabase(ctx.dbUrl);
  t.teardown(() => otherDb.close());
  const other = createServices({ db: otherDb, clock: ctx.clock, config: ctx.config, log: ctx.services.log, secrets: await loadSecrets(new SettingsRepository(otherDb)) });
  const [a, b] = await Promise.all([ctx.services.setup.issueToken(), other.setup.issueToken()]);
  t.ok(a);
  t.equal(a, b, 'the same link from both nodes');
  t.ok(await ctx.services.setup.isTokenValid(b!));
  t.ok(await other.setup.isTokenValid(a!));
  t.equal(await ctx.services.setup.issueToken(), a, 'a restart within the day prints the same link');
  t.notOk(await other.setup.isTokenValid(`${a!.slice(0, -1)}x`), 'a wrong token is refused');

  ctx.clock.advance(25 * 3600_000);
  t.notOk(await other.setup.isTokenValid(a!), 'expired');
  const [c, d] = await Promise.all([ctx.services.setup.issueToken(), other.setup.issueToken()]);
  t.not(c, a, 'a new link after expiry');
  t.equal(c, d, 'still one for all nodes');
  t.ok(await ctx.services.setup.isTokenValid(c!));
});
