import t from 'tap';
import { keySources, type SourceFile } from './scan.js';

/**
 * Issue 9, item 2: services, routes and notices say things to readers through catalog keys. A simple scan of
 * src/ for string literals that read as English sentences or titles ("No such mailbox.", 'New ticket',
 * `${name} assigned ticket #${n}`), outside the places that stay English: log lines, errors thrown for the
 * log, what the process prints at start, and the JSON API's answers to programs.
 */

/** Files whose text is for operators and programs, not readers: start-up output, configuration, the JSON API. */
const ENGLISH_FILES = [/^src\/(main|server|cluster-primary|bootstrap|config|logger)\.ts$/, /^src\/web\/api\//, /^src\/i18n\//];

/**
 * Lines that talk to the log, the console or a developer, or record why a message went to quarantine (kept in
 * English for the administrator, like the log it points to).
 */
const ENGLISH_LINE = /\blog\.(info|warn|error|debug|fatal|trace)\(|\bnew (Type|Range|Config)?Error\(|new UnparsableMessage\(|console\.|process\.std(err|out)/;

/**
 * Literals that read as English but are data or records: the first-run help topic (an administrator renames
 * it), a quarantine reason.
 */
const ALLOWED = new Set(['General inquiry', 'The message could not be processed (see the server log).']);

/** SQL and Content-Security-Policy directives read like words too. */
const SQL = /^\s*(select|insert|update|delete|with|create|alter|drop|set)\b/i;
const CSP = /\b[a-z]+-(src|ancestors|action)\b/;

export function englishLiterals(file: SourceFile): string[] {
  const found: string[] = [];
  file.text.split('\n').forEach((line, i) => {
    if (/^\s*(\/\/|\*|\/\*)/.test(line) || ENGLISH_LINE.test(line)) return;
    for (const m of line.matchAll(/(['"`])((?:(?!\1)[^\\]|\\.)*)\1/g)) {
      const text = m[2]!.replace(/\$\{[^}]*\}/g, ' ').replace(/\s+/g, ' ').trim();
      if (!text || SQL.test(text) || CSP.test(text) || ALLOWED.has(text)) continue;
      const title = /^\p{Lu}[\p{Ll}’']*( [\p{L}’'-]+)+[.!?:…]?$/u.test(text);
      const words = text.match(/\p{L}{2,}/gu)?.length ?? 0;
      const sentence = words >= 3 && / \p{Ll}{2,}/u.test(text) && (/[.!?:]$/.test(text) || /^\p{Lu}\p{Ll}/u.test(text));
      if (title || sentence) found.push(`${file.path}:${i + 1}: ${text}`);
    }
  });
  return found;
}

t.test('the scan', async (t) => {
  const file = (text: string): SourceFile => ({ path: 'src/x.ts', text });
  t.same(englishLiterals(file("throw notFound('NO_BOX', 'No such mailbox.');\nconst a = `${n} assigned ticket #${x} to you.`;\nrender(r, p, 'staff/queue', { title: 'Open tickets' });")), [
    'src/x.ts:1: No such mailbox.',
    'src/x.ts:2: assigned ticket # to you.',
    'src/x.ts:3: Open tickets',
  ]);
  t.same(englishLiterals(file("throw notFound('NO_BOX', msg('admin.mailbox.not_found'));\nlog.warn({ id }, 'outbox message failed for good');\nthrow new Error('Not a valid state here');\n// Explains what This Does here.\nknex.raw('select count(*) from tickets where x');\nconst c = 'btn primary';\nconst csp = \"img-src 'self' data: https:\";")), [], 'keys, logs, errors, comments, SQL, policies and class names pass');
});

t.test('no English sentence in the code a reader sees', async (t) => {
  for (const file of keySources().filter((f) => f.path.startsWith('src/') && !ENGLISH_FILES.some((re) => re.test(f.path)))) {
    t.same(englishLiterals(file), [], `${file.path}: text to move into a catalog (return msg(key, params))`);
  }
});
