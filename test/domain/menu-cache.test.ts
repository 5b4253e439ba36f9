import t from 'tap';
import { DIRECTORY_REFRESH_MS } from '../../src/directory/directory-cache.js';
import { createDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { createAgent, createTestContext } from '../helpers/context.js';

/**
 * The panel's menus (departments, assignable agents) are cached per node: the node that changes them shows the
 * change at once, another node within DIRECTORY_REFRESH_MS, and a stale choice is refused when saved.
 */
t.test('menus: this node at once, another node within DIRECTORY_REFRESH_MS, stale choices refused', async (t) => {
  const ctx = await createTestContext(t);
  const { services, clock } = ctx;
  const db = createDatabase(ctx.dbUrl, { poolMax: 2 });
  t.teardown(() => db.close());
  const other = createServices({ db, clock, config: ctx.config, log: createLogger('silent'), secrets: await loadSecrets(new SettingsRepository(db)) });
  const admin = await createAgent(services, { admin: true, name: 'Ada Admin' });
  const support = await services.departments.ensure('Support');
  const names = async (s: typeof services) => (await s.departments.menu()).map((d) => d.name);
  const assignable = async (s: typeof services) => (await s.staff.listAssignable(support.id)).map((a) => a.name);

  t.same(await names(other), ['Support']);
  t.same(await assignable(other), ['Ada Admin']);
  const billing = await services.departments.create(admin.principal, { name: 'Billing', signature: '' });
  const bea = await createAgent(services, { name: 'Bea Billing', departments: ['Billing'] });
  await createAgent(services, { name: 'Cy Support' });
  t.same(await names(services), ['Billing', 'Support'], 'the node that made the change shows it at once');
  t.same(await assignable(services), ['Ada Admin', 'Cy Support']);
  t.same(await names(other), ['Support'], 'another node keeps its menu for a while');
  t.same(await assignable(other), ['Ada Admin']);
  clock.advance(DIRECTORY_REFRESH_MS);
  t.same(await names(other), ['Billing', 'Support'], 'and shows the change within DIRECTORY_REFRESH_MS');
  t.same(await assignable(other), ['Ada Admin', 'Cy Support']);

  // A choice offered by a stale menu is checked against the database when saved.
  const { ticket } = await services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject: 'Hi', message: 'Hello', source: 'web', departmentId: support.id });
  await services.departments.archive(admin.principal, billing.id, support.id);
  t.ok((await other.departments.menu()).some((d) => d.id === billing.id && !d.archivedAt), 'the other node still offers Billing');
  await t.rejects(other.tickets.transfer(admin.principal, ticket.number, billing.id), { code: 'VALIDATION' }, 'the transfer is refused');
  await t.rejects(other.tickets.assign(admin.principal, ticket.number, bea.principal.staffId), { code: 'VALIDATION' }, 'so is an agent outside the department');
});
