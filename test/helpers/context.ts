import type { Test } from 'tap';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { systemClock, type Clock } from '../../src/db/time.js';
import type { StaffPrincipal } from '../../src/staff/staff.js';
import { freshDatabase } from './db.js';

/** A settable clock for tests that need time to pass without sleeping. */
export class TestClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** Time that stands still until the test moves it: for counts that depend on when a cache last checked. */
export class FrozenClock implements Clock {
  private t = Date.now();
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface TestContext {
  services: Services;
  config: Config;
  clock: TestClock;
  dbUrl: string;
}

/** argon2id at the configuration's floor: the suite signs in some thousand times, at 64 MiB each by default. */
export const TEST_PASSWORD_COST = { memoryKiB: 19_456, timeCost: 2, parallelism: 1 };

/**
 * Services on a fresh database with the first-run defaults (a "Support" department and a help topic).
 * Torn down when the tap test ends.
 */
export async function createTestContext(t: Test, overrides: Record<string, unknown> = {}, clock: Clock = new TestClock()): Promise<TestContext> {
  const { db, url, drop } = await freshDatabase();
  t.teardown(drop);
  const config = loadConfig({}, { databaseUrl: url, logLevel: 'silent', publicUrl: 'http://helpdesk.test', mailDomain: 'helpdesk.test', passwordHashing: TEST_PASSWORD_COST, ...overrides });
  const log = createLogger(config.logLevel);
  const secrets = await loadSecrets(new SettingsRepository(db));
  const services = createServices({ db, clock: clock ?? systemClock, config, log, secrets });
  await services.setup.ensureDefaults();
  return { services, config, clock: clock as TestClock, dbUrl: url };
}

let seq = 0;

/** Creates an agent (or admin) through the staff service and returns its principal and password. */
export async function createAgent(
  services: Services,
  opts: { admin?: boolean; departments?: string[]; name?: string; username?: string } = {},
): Promise<{ principal: StaffPrincipal; username: string; password: string }> {
  seq += 1;
  const username = opts.username ?? `agent${seq}${Math.random().toString(36).slice(2, 6)}`;
  const password = 'correct horse battery';
  const depts = [];
  // By default the site's default department, whatever the site's language named it.
  if (!opts.departments) depts.push({ departmentId: (await services.departments.defaultDepartment())!.id, isManager: false });
  for (const name of opts.departments ?? []) depts.push({ departmentId: (await services.departments.ensure(name)).id, isManager: false });
  const s = await services.staff.create(null, { username, email: `${username}@staff.test`, name: opts.name ?? `Agent ${username}`, password, isAdmin: Boolean(opts.admin), departments: depts });
  return { principal: (await services.staff.principal(s.id))!, username, password };
}
