// Compiles the TypeScript sources into dist/ (tsc -p tsconfig.build.json) when dist/ is missing or older than a
// source. npm runs it on `npm install` / `npm ci` (prepare) and before `npm start` (prestart), so a fresh clone,
// or one updated by `git pull` alone, starts the code it holds. Plain JavaScript: it runs before anything is
// compiled. Paths are relative to the working directory, the package root under npm.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const STAMP = 'dist/.built';
const SOURCES = ['src', 'migrations', 'scripts/manage.ts', 'tsconfig.json', 'tsconfig.build.json'];

function fail(message) {
  process.stderr.write(`switchboard: ${message}\n`);
  process.exit(1);
}

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : -1;
const changed = Math.max(...SOURCES.map(newest));
// Up to date, or an installation that carries dist/ without the sources (the container image).
if (built >= changed) process.exit(0);
if (changed === 0) fail('dist/ is missing and there are no sources to build it from');

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  fail(`dist/ is ${built < 0 ? 'missing' : 'older than the sources'} and TypeScript is not installed (npm ci --omit=dev?): run \`npm ci\`, which builds it`);
}
process.stderr.write('switchboard: compiling the TypeScript sources into dist/ ...\n');
const startedAt = new Date();
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (result.status !== 0) fail('the build failed (tsc -p tsconfig.build.json)');
// Stamped with the time the build began: a source saved while tsc ran is newer, and is built next time.
writeFileSync(STAMP, '');
utimesSync(STAMP, startedAt, startedAt);
