import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT, childEnv } from './spawn.js';

/** The image's command: the Dockerfile's CMD, which must be in exec form (a JSON array). */
export function imageCommand(): string[] {
  const m = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8'));
  if (!m) throw new Error('Dockerfile: no CMD in exec form');
  return JSON.parse(m[1]!) as string[];
}

/**
 * An installation laid out as the image has it: package.json, the compiled dist/, config, views, locales, public and
 * the build check, no TypeScript sources; node_modules is the repository's, found above it. Compiled into
 * dist/test-<pid>/ (ignored by git), so it never races the developer's own dist/. Once per test file: tsc
 * takes seconds.
 */
export function buildInstall(): { dir: string; remove(): void } {
  const dir = resolve(ROOT, 'dist', `test-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const out = join(dir, 'dist');
  const tsc = resolve(ROOT, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', resolve(ROOT, 'tsconfig.build.json'), '--outDir', out, '--tsBuildInfoFile', join(out, '.tsbuildinfo')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  writeFileSync(join(out, '.built'), '');
  cpSync(resolve(ROOT, 'package.json'), join(dir, 'package.json'));
  for (const d of ['config', 'views', 'locales', 'public']) symlinkSync(resolve(ROOT, d), join(dir, d));
  mkdirSync(join(dir, 'scripts'));
  symlinkSync(resolve(ROOT, 'scripts/build.mjs'), join(dir, 'scripts/build.mjs'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Running {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves with the first match of `re` in the output; rejects if the process exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `argv` (its "node" is this Node) in `dir` with the test environment. */
export function startIn(dir: string, argv: string[], env: Record<string, string>): Running {
  const [cmd, ...args] = argv;
  const child = spawn(cmd === 'node' ? process.execPath : cmd!, args, { cwd: dir, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
  const waitFor = async (re: RegExp, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(out);
      if (m) return m;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before ${re}: ${out}`);
      if (Date.now() > deadline) throw new Error(`no ${re} within ${timeoutMs} ms: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, output: () => out, waitFor, exited };
}
