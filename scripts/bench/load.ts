import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * Closed-loop HTTP load (GETs, or JSON POSTs): `concurrency` clients on keep-alive connections, each sending its next request as
 * soon as the previous answer has been read in full. Runs in a worker thread so that the clients' own work
 * does not sit on the event loop of the server they measure. A child process rather than a worker thread:
 * it inherits tsx's loader, which Node 20 worker threads do not. node:http, no benchmark package needed.
 */
export interface Target {
  url: string;
  cookie?: string;
  /** A POST with this body (JSON) instead of a GET. */
  json?: string;
  headers?: Record<string, string>;
  /** The status that counts as success (default 200). */
  status?: number;
}

export interface LoadSpec {
  /** Client i starts at targets[i % n] and cycles through them. */
  targets: Target[];
  concurrency: number;
  durationMs: number;
  /** Upper bound on requests in total, whatever the duration. */
  maxRequests: number;
}

export interface LoadResult {
  latenciesMs: number[];
  elapsedMs: number;
  errors: number;
  firstError: string | null;
}

function send(agent: http.Agent, t: Target): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const headers = t.json === undefined
      ? { accept: 'text/html', ...(t.cookie ? { cookie: t.cookie } : {}), ...t.headers }
      : { accept: 'application/json', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(t.json)), ...t.headers };
    const req = http.request(t.url, { agent, method: t.json === undefined ? 'GET' : 'POST', headers }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout after 30 s')));
    req.on('error', reject);
    req.end(t.json);
  });
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let sent = 0;
  const started = performance.now();
  const deadline = started + spec.durationMs;
  const client = async (i: number) => {
    for (let k = i; performance.now() < deadline && sent < spec.maxRequests; k += spec.concurrency) {
      sent++;
      const target = spec.targets[k % spec.targets.length]!;
      const t0 = performance.now();
      try {
        const { status, bytes } = await send(agent, target);
        if (status !== (target.status ?? 200) || bytes === 0) throw new Error(`HTTP ${status} for ${target.url}`);
        latenciesMs.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, (_, i) => client(i)));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { latenciesMs, elapsedMs, errors, firstError };
}

/** Runs one load in a child process and returns its measurements. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, SB_LOAD_CHILD: '1' }, serialization: 'advanced' });
    let result: LoadResult | null = null;
    child.once('message', (r) => (result = r as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`load process exited with ${code} and no result`))));
    child.send(spec);
  });
}

if (process.env.SB_LOAD_CHILD === '1' && process.send) {
  process.once('message', (spec) => {
    void run(spec as LoadSpec).then((r) => process.send!(r, () => process.disconnect()));
  });
}
