// `npm test`'s runner (after tsc): compiles the tests and the code they load into dist/tests/ (build-tests.mjs),
// then runs tap on the compiled files with package.json's tap settings, less the tsx loader they no longer need.
// Arguments go to tap; test files may be named by their TypeScript path: `npm test -- test/web/admin.test.ts`.
// `npx tap test/x.test.ts` still runs one file from its source, through tsx.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { buildTests, OUT } from './build-tests.mjs';

await buildTests();

const tap = JSON.parse(readFileSync('package.json', 'utf8')).tap;
const config = {
  ...tap,
  'node-arg': (tap['node-arg'] ?? []).filter((a) => !/tsx/.test(a)),
  include: [`${OUT}/test/**/*.test.js`],
  // tap's default leaves out anything under a dist/ directory, which is where the compiled tests are.
  exclude: ['**/fixtures/**'],
};
const rcfile = resolve(OUT, 'taprc.json');
writeFileSync(rcfile, JSON.stringify(config, null, 2));

const args = process.argv.slice(2).map((a) => (/^test\/.*\.ts$/.test(a) ? `${OUT}/${a.replace(/\.ts$/, '.js')}` : a));
const pkg = createRequire(import.meta.url).resolve('tap/package.json');
const bin = resolve(dirname(pkg), JSON.parse(readFileSync(pkg, 'utf8')).bin.tap);
const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit', env: { ...process.env, TAP_RCFILE: rcfile } });
process.exit(r.status ?? 1);
