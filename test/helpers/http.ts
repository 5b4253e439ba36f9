import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { createAgent, createTestContext, type TestContext } from './context.js';

/**
 * A browser-like HTTP client over app.inject: keeps cookies, reads the CSRF token from the last page,
 * and sends forms urlencoded or multipart like a browser would.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  csrf = '';
  /** The client address the app sees (app.inject's default otherwise). */
  remoteAddress?: string;

  constructor(readonly app: FastifyInstance) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: LightMyRequestResponse): void {
    for (const c of res.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      const expired = c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now()) || c.value === '';
      if (expired) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (m) this.csrf = m[1]!;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({ method: 'GET', url, remoteAddress: this.remoteAddress, headers: { cookie: this.cookieHeader(), ...headers } });
    this.remember(res);
    return res;
  }

  /** Posts a form; `_csrf` is filled in from the last page unless given. Files make it multipart. */
  async post(
    url: string,
    fields: Record<string, string | string[]>,
    files: Array<{ field: string; filename: string; contentType?: string; data: Buffer }> = [],
  ): Promise<LightMyRequestResponse> {
    const all: Record<string, string | string[]> = { _csrf: this.csrf, ...fields };
    let payload: string | Buffer;
    let contentType: string;
    if (files.length) {
      const boundary = `----sbtest${Math.random().toString(16).slice(2)}`;
      const parts: Buffer[] = [];
      for (const [k, v] of Object.entries(all)) {
        for (const item of Array.isArray(v) ? v : [v]) {
          parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${item}\r\n`));
        }
      }
      for (const f of files) {
        parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.filename}"\r\nContent-Type: ${f.contentType ?? 'application/octet-stream'}\r\n\r\n`), f.data, Buffer.from('\r\n'));
      }
      parts.push(Buffer.from(`--${boundary}--\r\n`));
      payload = Buffer.concat(parts);
      contentType = `multipart/form-data; boundary=${boundary}`;
    } else {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(all)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
      payload = params.toString();
      contentType = 'application/x-www-form-urlencoded';
    }
    const res = await this.app.inject({ method: 'POST', url, payload, remoteAddress: this.remoteAddress, headers: { cookie: this.cookieHeader(), 'content-type': contentType } });
    this.remember(res);
    return res;
  }

  /** Signs in through the real login form. */
  async staffLogin(login: string, password: string): Promise<LightMyRequestResponse> {
    await this.get('/scp/login');
    return this.post('/scp/login', { login, password });
  }
}

/** buildApp on the test context's services, closed when the test ends. */
export async function createTestApp(t: Test, ctx: TestContext): Promise<FastifyInstance> {
  const app = await buildApp(ctx.services);
  await app.ready();
  t.teardown(() => app.close());
  return app;
}

/** The text of the field error shown next to a field (partials/field.eta gives it the id e-<name>), or null. */
export function fieldError(body: string, name: string): string | null {
  const m = new RegExp(`<p class="error" id="e-${name}">([^<]*)</p>`).exec(body);
  return m ? m[1]! : null;
}

/** A fresh test context and app with an administrator signed in through the login form. */
export async function signedInAdmin(t: Test) {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const admin = await createAgent(ctx.services, { admin: true, name: 'Ada Admin' });
  const b = new Browser(app);
  t.equal((await b.staffLogin(admin.username, admin.password)).statusCode, 302);
  return { ctx, app, admin, b };
}

/** A fresh test context and app with an agent of the default department signed in through the login form. */
export async function signedInAgent(t: Test, overrides: Record<string, unknown> = {}, name = 'Alan Turing') {
  const ctx = await createTestContext(t, overrides);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services, { name });
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  return { ctx, app, agent, b };
}
