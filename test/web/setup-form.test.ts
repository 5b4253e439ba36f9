import t from 'tap';
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
