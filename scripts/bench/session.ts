/** A minimal browser for the benchmarks: cookies and the CSRF token of the last form, over real HTTP. */
export class Session {
  private readonly jar = new Map<string, string>();
  csrf = '';

  constructor(private readonly baseUrl: string) {}

  get cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private async send(path: string, init: RequestInit): Promise<{ status: number; location: string | null; body: string }> {
    const res = await fetch(this.baseUrl + path, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: this.cookie } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const body = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(body);
    if (m) this.csrf = m[1]!;
    return { status: res.status, location: res.headers.get('location'), body };
  }

  get(path: string) {
    return this.send(path, { method: 'GET' });
  }

  /** A form post; a list value is sent as the field repeated, as checkboxes are. */
  post(path: string, fields: Record<string, string | string[]>) {
    const params = new URLSearchParams({ _csrf: this.csrf });
    for (const [k, v] of Object.entries(fields)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
    const body = params.toString();
    return this.send(path, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }
}

/** An agent signed in through the login form. */
export async function staffLogin(baseUrl: string, username: string, password: string): Promise<Session> {
  const s = new Session(baseUrl);
  await s.get('/scp/login');
  const res = await s.post('/scp/login', { login: username, password, next: '/scp/' });
  if (res.status !== 302 || !s.cookie.includes('sb_staff=')) throw new Error(`staff login as ${username} failed: HTTP ${res.status}`);
  return s;
}
