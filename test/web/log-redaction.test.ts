import { Writable } from 'node:stream';
import t from 'tap';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { createLogger } from '../../src/logger.js';

t.test('request logs keep access and setup tokens out', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const app = Fastify({ loggerInstance: createLogger('info', stream) as FastifyBaseLogger });
  app.get('/tickets/:number', async () => 'ok');
  app.get('/scp/setup', async () => 'ok');
  t.teardown(() => app.close());
  await app.inject({ url: '/tickets/12345678?t=SECRET-ACCESS&x=1', headers: { cookie: 'sb_client=SECRET-COOKIE' } });
  await app.inject({ url: '/scp/setup?token=SECRET-SETUP' });
  const log = lines.join('');
  t.match(log, 'incoming request', 'requests are logged');
  t.match(log, '/tickets/12345678?t=[redacted]&x=1');
  t.notMatch(log, 'SECRET', 'no token or cookie value in the log');
});
