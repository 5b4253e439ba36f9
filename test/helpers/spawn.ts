import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from '../../src/paths.js';

export { ROOT };

/**
 * The test code runs from test/ under tsx, or compiled into dist/tests/ (`npm test`, scripts/build-tests.mjs). A
 * child then runs the same kind of code: compiled, it needs no loader, which saves each child a second of CPU.
 */
const COMPILED_ROOT = import.meta.filename.endsWith('.js') ? resolve(import.meta.dirname, '../..') : null;

/** `node`'s arguments that run a TypeScript entry point of this repository (a path relative to ROOT). */
export function nodeArgs(script: string): string[] {
  return COMPILED_ROOT ? [resolve(COMPILED_ROOT, script.replace(/\.ts$/, '.js'))] : ['--import=tsx', resolve(ROOT, script)];
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a child: the contract's variables cleared (a developer's shell or CI may set them),
 * then `env` on top; logs quiet unless asked for.
 */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const k of ['DATABASE_URL', 'HTTP_HOST', 'HTTP_PORT', 'SMTP_HOST', 'SMTP_PORT', 'PUBLIC_URL', 'MAIL_DOMAIN', 'OUTBOUND_SMTP_URL', 'LOG_LEVEL', 'SWITCHBOARD_CONFIG', 'SWITCHBOARD_WORKERS']) delete base[k];
  return { ...base, LOG_LEVEL: 'warn', ...env };
}

/** Starts a TypeScript entry point of this repository (see nodeArgs). */
export function start(script: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...nodeArgs(script), ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs to completion, killed after `timeoutMs` so a hanging child fails the test instead of stalling it. */
export function run(script: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<RunResult> {
  const child = start(script, args, env);
  return collect(child, timeoutMs);
}

export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not finish within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** The lines of a stream's output, without blank ones. */
export const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

/**
 * A helper process of this repository spoken to in JSON lines: `next()` is its next line of output, parsed;
 * `ask(cmd)` writes one command line and waits for the answer line. Killed when the test ends.
 */
export function jsonLineChild(t: { teardown(fn: () => void): void }, script: string, env: Record<string, string>): {
  next(): Promise<Record<string, unknown>>;
  ask(cmd: Record<string, unknown>): Promise<Record<string, unknown>>;
  end(): void;
} {
  const child = spawn(process.execPath, nodeArgs(script), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill());
  const early: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(line);
      else early.push(line);
    }
  });
  const next = (): Promise<Record<string, unknown>> => {
    const line = early.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line) as Record<string, unknown>);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not answer`)), 60_000);
      waiting.push((l) => {
        clearTimeout(timer);
        resolvePromise(JSON.parse(l) as Record<string, unknown>);
      });
    });
  };
  return {
    next,
    ask(cmd) {
      child.stdin.write(`${JSON.stringify(cmd)}\n`);
      return next();
    },
    end: () => void child.stdin.end(),
  };
}
