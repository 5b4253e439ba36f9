// Compiles the TypeScript of src/, migrations/, scripts/ and test/ into dist/tests/, the same tree in JavaScript,
// for `npm test` (scripts/test.mjs). Why: under `node --import=tsx` every test process and every child it spawns
// resolves and loads each module through tsx's loader hooks, which on Node 20 run on a separate thread; that cost
// about a second of CPU per process, a fifth of the suite. Compiled once here (esbuild, under a second), the tests
// load plain JavaScript. Types are not checked here: `npm test` runs tsc first.
// Files other than TypeScript (test/fixtures, the .mjs beside the benchmarks) are linked, not copied, so a test
// that reads them beside itself finds the originals. The tree is rebuilt whole each time: a test file deleted from
// test/ must not live on in dist/tests/ and be run.
import { lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';

export const OUT = 'dist/tests';
const DIRS = ['src', 'migrations', 'scripts', 'test'];

/** TypeScript to compile, and everything else to link, under `dir`; a directory with no TypeScript is linked whole. */
function collect(dir, ts, links) {
  const entries = readdirSync(dir, { withFileTypes: true });
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (hasTypeScript(path)) collect(path, ts, links);
      else links.push(path);
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) ts.push(path);
    else links.push(path);
  }
}

function hasTypeScript(dir) {
  return readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? hasTypeScript(join(dir, e.name)) : e.name.endsWith('.ts')));
}

export async function buildTests() {
  const ts = [];
  const links = [];
  for (const d of DIRS) collect(d, ts, links);
  rmSync(OUT, { recursive: true, force: true });
  await build({
    entryPoints: ts,
    outdir: OUT,
    outbase: '.',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Stack traces of failures name the TypeScript file and line (tap runs Node with --enable-source-maps).
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  });
  for (const path of links) {
    const to = join(OUT, path);
    mkdirSync(dirname(to), { recursive: true });
    symlinkSync(relative(dirname(to), path), to, lstatSync(path).isDirectory() ? 'dir' : 'file');
  }
}
