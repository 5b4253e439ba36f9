import type { Verification } from '../../threads/thread-repository.js';
import type { MessageIdSigner } from '../message-id.js';
import type { ParsedMessage } from './parse.js';

/**
 * Who really sent a message, as far as the mail itself can show it (DESIGN.md §11). A From header is a
 * claim; two things back it up:
 * - our signed Message-ID in In-Reply-To/References, signed for the From address: the sender received a
 *   mail we sent to that address about that ticket;
 * - SPF or DKIM "pass" aligned with the From domain, in an Authentication-Results header (RFC 8601) added by
 *   a server the site names as trusted. Any other copy of that header is the sender's own claim and ignored.
 */
export interface SenderEvidence {
  /** Lower-cased From address. */
  from: string;
  /** The tickets whose signed mail to this very address the message answers. */
  signedTicketIds: number[];
  /** SPF or DKIM passed aligned with From per a trusted server; null when the site names no trusted server. */
  authResultsPass: boolean | null;
  /** The active agent whose address the From header claims, if any. */
  claimedAgent: { id: number; name: string } | null;
}

export interface SenderVerdict {
  verification: Verification;
  /** Set only when the mail may be written in this agent's name. */
  agent: { id: number; name: string } | null;
}

export interface AuthenticateContext {
  signer: MessageIdSigner;
  /** authserv-ids whose Authentication-Results are believed; empty: none is, and none is required. */
  trustedAuthServers: readonly string[];
  findAgentByEmail(address: string): Promise<{ id: number; name: string } | null>;
}

/** Gathers the evidence about a message's sender: pure header work plus one lookup of the claimed agent. */
export async function authenticateSender(m: ParsedMessage, ctx: AuthenticateContext): Promise<SenderEvidence> {
  const signedTicketIds = new Set<number>();
  for (const id of [...m.inReplyTo, ...m.references]) {
    const ref = ctx.signer.verify(id);
    if (ref && ctx.signer.isSignedTo(ref, m.from.address)) signedTicketIds.add(ref.ticketId);
  }
  const trusted = ctx.trustedAuthServers.map((s) => s.toLowerCase());
  const authResultsPass = trusted.length ? authResultsPassFor(m.headers.get('authentication-results') ?? [], trusted, m.from.address) : null;
  return { from: m.from.address, signedTicketIds: [...signedTicketIds], authResultsPass, claimedAgent: await ctx.findAgentByEmail(m.from.address) };
}

/**
 * What the evidence proves for a message placed on `ticketId` (null: it opens a new ticket). Staff
 * authorship needs our reply token for that agent on that ticket and, where the site names trusted servers,
 * their pass too. A staff address that is not verified is suspicious: that is what an impersonation looks
 * like. (Mail from our own domain never gets here: classify() drops it as a loop.)
 */
export function verdictFor(e: SenderEvidence, ticketId: number | null): SenderVerdict {
  const tokenOk = ticketId !== null && e.signedTicketIds.includes(ticketId) && e.authResultsPass !== false;
  const verified = tokenOk || e.authResultsPass === true;
  if (e.claimedAgent) return tokenOk ? { verification: 'verified', agent: e.claimedAgent } : { verification: verified ? 'verified' : 'suspicious', agent: null };
  return { verification: verified ? 'verified' : 'unverified', agent: null };
}

/** One Authentication-Results header: its authserv-id and each method's result with its properties. */
interface AuthResults {
  authservId: string;
  results: Array<{ method: string; result: string; props: Map<string, string> }>;
}

/** RFC 8601 §2.2, leniently: comments dropped, `;`-separated resinfo, `method=result` then `ptype.prop=value`. */
export function parseAuthResults(value: string): AuthResults | null {
  const text = stripComments(value.replace(/\r?\n[ \t]+/g, ' '));
  const [head, ...rest] = splitOutsideQuotes(text);
  const authservId = head?.trim().split(/\s+/)[0]?.toLowerCase();
  if (!authservId) return null;
  const results: AuthResults['results'] = [];
  for (const part of rest) {
    const tokens = part.trim().match(/[^\s=]+\s*=\s*(?:"[^"]*"|[^\s]+)/g) ?? [];
    const first = tokens.shift()?.split('=');
    if (!first || first.length < 2) continue;
    const props = new Map<string, string>();
    for (const t of tokens) {
      const eq = t.indexOf('=');
      props.set(t.slice(0, eq).trim().toLowerCase(), t.slice(eq + 1).trim().replace(/^"|"$/g, '').toLowerCase());
    }
    results.push({ method: first[0]!.trim().toLowerCase(), result: first[1]!.trim().toLowerCase(), props });
  }
  return { authservId, results };
}

/**
 * SPF or DKIM passed, per a trusted server, for a domain aligned with the From address. Only the topmost
 * header carrying a trusted authserv-id counts: the trusted server prepends its own, so any copy below it
 * (a sender's forgery naming the same server, RFC 8601 §7.2) is older than that server's verdict.
 */
export function authResultsPassFor(headers: string[], trusted: string[], from: string): boolean {
  const fromDomain = from.split('@')[1]?.toLowerCase() ?? '';
  if (!fromDomain) return false;
  const verdict = headers.map(parseAuthResults).find((p) => p !== null && trusted.includes(p.authservId));
  for (const r of verdict?.results ?? []) {
    if (r.result !== 'pass') continue;
    const domain =
      r.method === 'spf' ? domainOf(r.props.get('smtp.mailfrom') ?? '') :
      r.method === 'dkim' ? (r.props.get('header.d') ?? domainOf(r.props.get('header.i') ?? '')) :
      '';
    if (domain && aligned(domain, fromDomain)) return true;
  }
  return false;
}

const domainOf = (s: string) => (s.includes('@') ? s.slice(s.lastIndexOf('@') + 1) : s);

/**
 * DMARC's relaxed alignment (RFC 7489 §3.1) without the public suffix list: the same domain, or one a
 * subdomain of the other where the parent has at least two labels (so "com" aligns with nothing).
 */
function aligned(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return short.includes('.') && long.endsWith(`.${short}`);
}

function stripComments(s: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && (quoted || depth)) {
      i++;
      continue;
    }
    if (!depth && c === '"') quoted = !quoted;
    if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')' && depth) depth--;
    else if (!depth) out += c;
  }
  return out;
}

function splitOutsideQuotes(s: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of s) {
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}
