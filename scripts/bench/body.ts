import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { parseBenchArgs, scratchDatabase } from './common.js';

const HELP = `npm run bench:body [-- options]

Starts the product's server (src/main.ts) on a fresh SQLite database and sends it, route by route, N parallel
unauthenticated POSTs of SIZE MB each (no session, no CSRF token, no API key): to the routes that take uploads
and to ordinary form routes. Samples the server process's resident memory from /proc while they run and
reports the peak (VmHWM) and the statuses. Requirement: the peak stays under 250 MB.

  --parallel N     requests at once per route (default 8)
  --size MB        body size of each request (default 60)
  --port N         HTTP port for the server (default 15080)
`;

const { int } = parseBenchArgs('bench:body', HELP, { parallel: { type: 'string', default: '8' }, size: { type: 'string', default: '60' }, port: { type: 'string', default: '15080' } });
const parallel = int('parallel', 1);
const sizeMb = int('size', 1);
const port = int('port', 1);
const ROOT = resolve(import.meta.dirname, '../..');
const LIMIT_MB = 250;

interface Target {
  name: string;
  path: string;
  kind: 'upload' | 'ordinary';
  contentType: string;
  /** The body: a head, then filler bytes, then a tail, streamed so the bench itself stays small. */
  head: string;
  tail: string;
}

const boundary = '----benchbody';
const multipartFile = (fields: string) => ({
  contentType: `multipart/form-data; boundary=${boundary}`,
  head: `${fields}--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  tail: `\r\n--${boundary}--\r\n`,
});
const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;

const targets: Target[] = [
  { name: 'portal new ticket (multipart file)', path: '/tickets/new', kind: 'upload', ...multipartFile(field('name', 'A') + field('email', 'a@example.com') + field('subject', 'S') + field('message', 'M')) },
  { name: 'portal reply (multipart file)', path: '/tickets/12345678/reply', kind: 'upload', ...multipartFile(field('message', 'M')) },
  { name: 'staff reply (multipart file)', path: '/scp/tickets/12345678/reply', kind: 'upload', ...multipartFile(field('message', 'M')) },
  { name: 'staff new ticket (multipart file)', path: '/scp/tickets/new', kind: 'upload', ...multipartFile(field('subject', 'S')) },
  { name: 'API tickets.json (JSON)', path: '/api/tickets.json', kind: 'upload', contentType: 'application/json', head: '{"name":"A","email":"a@example.com","subject":"S","message":"', tail: '"}' },
  { name: 'API tickets.email (raw mail)', path: '/api/tickets.email', kind: 'upload', contentType: 'message/rfc822', head: 'From: a@example.com\r\nSubject: S\r\n\r\n', tail: '\r\n' },
  { name: 'portal login (urlencoded)', path: '/login', kind: 'ordinary', contentType: 'application/x-www-form-urlencoded', head: 'email=a%40example.com&password=', tail: '' },
  { name: 'staff login (urlencoded)', path: '/scp/login', kind: 'ordinary', contentType: 'application/x-www-form-urlencoded', head: 'login=a&password=', tail: '' },
  { name: 'status check (multipart field)', path: '/tickets/status', kind: 'ordinary', contentType: `multipart/form-data; boundary=${boundary}`, head: `--${boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\n`, tail: `\r\n--${boundary}--\r\n` },
  { name: 'staff status change (JSON)', path: '/scp/tickets/12345678/status', kind: 'ordinary', contentType: 'application/json', head: '{"status":"', tail: '"}' },
];

const CHUNK = Buffer.alloc(1024 * 1024, 'a');

/** One POST of about sizeMb MB; resolves with the status, or 'reset' when the server closed the connection first. */
function post(t: Target): Promise<string> {
  return new Promise((done) => {
    const filler = sizeMb * 1024 * 1024;
    const total = Buffer.byteLength(t.head) + filler + Buffer.byteLength(t.tail);
    let settled = false;
    const finish = (s: string) => {
      if (!settled) {
        settled = true;
        done(s);
      }
    };
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: t.path, headers: { 'content-type': t.contentType, 'content-length': total } }, (res) => {
      res.resume();
      res.on('end', () => finish(String(res.statusCode)));
      res.on('error', () => finish(String(res.statusCode)));
    });
    req.on('error', () => finish('reset'));
    let sent = 0;
    const write = () => {
      if (sent === 0) req.write(t.head);
      while (sent < filler) {
        const n = Math.min(CHUNK.length, filler - sent);
        sent += n;
        if (!req.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          req.once('drain', write);
          return;
        }
      }
      req.end(t.tail);
    };
    write();
  });
}

const rssMb = (pid: number, field: 'VmRSS' | 'VmHWM'): number => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
};

async function waitReady(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await new Promise<boolean>((r) => {
      const req = request({ host: '127.0.0.1', port, path: '/healthz' }, (res) => {
        res.resume();
        r(res.statusCode === 200);
      });
      req.on('error', () => r(false));
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not start within 60 s');
}

const db = await scratchDatabase({ kind: 'sqlite', mysqlUrl: '', name: 'sb_bench_body' });
const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  cwd: ROOT,
  env: { ...process.env, DATABASE_URL: db.url, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), SMTP_HOST: '127.0.0.1', SMTP_PORT: '0', LOG_LEVEL: 'error', PUBLIC_URL: '', OUTBOUND_SMTP_URL: '' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const pid = child.pid!;
try {
  await waitReady();
  const idle = rssMb(pid, 'VmRSS');
  process.stdout.write(`server pid ${pid}, idle RSS ${idle} MB; ${parallel} parallel POSTs of ${sizeMb} MB per route\n`);
  const results: Array<{ route: string; path: string; kind: string; statuses: Record<string, number>; peakRssMb: number }> = [];
  for (const t of targets) {
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid, 'VmRSS'));
    }, 20);
    const statuses: Record<string, number> = {};
    for (const s of await Promise.all(Array.from({ length: parallel }, () => post(t)))) statuses[s] = (statuses[s] ?? 0) + 1;
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(pid, 'VmRSS'));
    results.push({ route: t.name, path: t.path, kind: t.kind, statuses, peakRssMb: peak });
    process.stdout.write(`${t.kind.padEnd(9)} ${t.name.padEnd(38)} ${t.path.padEnd(30)} statuses ${JSON.stringify(statuses).padEnd(22)} peak RSS ${peak} MB\n`);
  }
  const hwm = rssMb(pid, 'VmHWM');
  const pass = hwm < LIMIT_MB;
  process.stdout.write(`peak RSS of the server over the run (VmHWM): ${hwm} MB; requirement < ${LIMIT_MB} MB: ${pass ? 'met' : 'NOT met'}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'body', parallel, sizeMb, idleRssMb: idle, peakRssMb: hwm, limitMb: LIMIT_MB, pass, results })}\n`);
  process.exitCode = pass ? 0 : 1;
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await db.drop();
}
