import t from 'tap';
import { entryHtml, markInlineImages, renderMarkdown, textToHtml } from '../../src/content/markdown.js';

const html = (s: string) => renderMarkdown(s).html;

/** What each link of the HTML would open, as a browser resolves it on a page of ours. */
const protocols = (h: string) => [...h.matchAll(/href="([^"]*)"/g)].map((m) => new URL(m[1]!.replace(/&amp;/g, '&'), 'https://desk.example/scp/').protocol);
/** Attributes outside the few the subset makes: event handlers, styles (looked for outside quoted values). */
const ATTRIBUTE = { test: (h: string) => /<[a-z]+\b[^>]*\s(on[a-z]+|style)=/i.test(h.replace(/"[^"]*"/g, '""')) };

t.test('each construct of the subset', async (t) => {
  const cases: Array<[string, string, string | RegExp]> = [
    ['bold', '**strong** and __also__', '<strong>strong</strong> and <strong>also</strong>'],
    ['italic', '*one* and _two_', '<em>one</em> and <em>two</em>'],
    ['inline code', 'run `ls -l <dir>`', '<code>ls -l &lt;dir&gt;</code>'],
    ['bullet list', '- a\n- b', /<ul>\s*<li>a<\/li>\s*<li>b<\/li>\s*<\/ul>/],
    ['numbered list', '3. c\n4. d', /<ol start="3">\s*<li>c<\/li>\s*<li>d<\/li>\s*<\/ol>/],
    ['quote', '> quoted\n> more', /<blockquote>\s*<p>quoted<br \/>\s*more<\/p>\s*<\/blockquote>/],
    ['fenced code', '```\nif (a < b) {}\n```', /<pre><code>if \(a &lt; b\) \{\}\n<\/code><\/pre>/],
    ['indented code', '    x = 1', /<pre><code>x = 1\n<\/code><\/pre>/],
    ['link', '[docs](https://example.com/a?b=1&c=2)', '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow">docs</a>'],
    ['mail link', '[write](mailto:help@example.com)', 'href="mailto:help@example.com"'],
    ['bare URL', 'see https://example.com/x_y_z.', '<a href="https://example.com/x_y_z"'],
    ['line breaks kept, as agents type', 'line one\nline two', 'line one<br />\nline two'],
    ['paragraphs', 'one\n\ntwo', /<p>one<\/p>\s*<p>two<\/p>/],
    ['escapes', '\\*not italic\\*', '*not italic*'],
  ];
  for (const [name, source, want] of cases) t.match(html(source), want, name);
});

t.test('outside the subset, text stays text', async (t) => {
  t.notMatch(html('# Title'), '<h1>', 'no headings');
  t.match(html('# Title'), '# Title');
  t.notMatch(html('| a | b |\n|---|---|\n| 1 | 2 |'), '<table', 'no tables');
  t.notMatch(html('---'), '<hr', 'no rules');
  t.notMatch(html('~~gone~~'), '<s>', 'no strikethrough');
});

t.test('hostile input', async (t) => {
  const script = html('<script>alert(1)</script>');
  t.notMatch(script, '<script');
  t.match(script, '&lt;script&gt;alert(1)&lt;/script&gt;', 'raw HTML is shown as text');
  t.match(html('<b onmouseover="x()">b</b>'), /^<p>&lt;b onmouseover="x\(\)"&gt;b&lt;\/b&gt;<\/p>\n$/);
  t.match(html('<div>\n\n*md*\n\n</div>'), '&lt;div&gt;', 'an HTML block is text too');
  for (const href of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'java&#x09;script:alert(1)', 'vbscript:x', 'data:text/html;base64,PHNjcmlwdD4=', 'file:///etc/passwd']) {
    t.same(protocols(html(`[x](${href})`)).filter((p) => p !== 'https:'), [], `no link to ${href}`);
  }
  t.notMatch(html('<javascript:alert(1)>'), /href="javascript/i, 'autolinks too');
  t.notOk(ATTRIBUTE.test(html('[x](https://a.example/" onclick="alert(1))')), 'no attribute breaks out of a link');
  t.notOk(ATTRIBUTE.test(html('[x](https://a.example/ "t\\" onclick=\\"alert(1)")')), 'nor out of its title');
  t.notMatch(html('![x](https://tracker.example/pixel.gif)'), '<img', 'no image by URL');
  t.match(html('![a photo](https://tracker.example/pixel.gif)'), 'a photo', 'its text instead');
  t.notMatch(html('![x](data:image/png;base64,AAAA)'), '<img', 'no data: image either');
  t.notOk(ATTRIBUTE.test(html('![x](cid:a" onerror="alert(1))')));
  t.notOk(ATTRIBUTE.test(html('![x" onerror="alert(1)](cid:a.png)')), 'nor out of an alt text');
  t.match(html('[![x](cid:a.png)](javascript:alert(1))'), '<img src="cid:a.png"');
  t.notMatch(html('[![x](cid:a.png)](javascript:alert(1))'), /href="javascript/i);
});

t.test('huge and deeply nested input is rendered, not choked on', async (t) => {
  const big = `${'**word** _and_ `code` [l](https://x.example) '.repeat(4000)}\n`.repeat(5);
  t.ok(html(big).length > big.length, 'a 200 kB message');
  const nested = '> '.repeat(5000) + 'deep';
  t.match(html(nested), /&gt; &gt; deep<\/p>/, 'thousands of quote levels: shown as text, nothing dropped');
  t.equal(html('> '.repeat(10) + 'ten').split('<blockquote>').length - 1, 10, 'ten levels are still quotes');
  t.ok(html('*'.repeat(50_000) + 'a' + '_'.repeat(50_000)).length > 0, 'runs of emphasis markers');
  t.ok(html('['.repeat(20_000) + '](' .repeat(20_000)).length > 0, 'runs of link brackets');
  t.ok(html('- '.repeat(3000) + 'x').includes('x'), 'deeply nested lists');
});

t.test('inline images are the cid: references of the text', async (t) => {
  const r = renderMarkdown('![shot](cid:image-1.png) and ![again](cid:image-1.png) ![b](cid:b%20c.png)');
  t.match(r.html, '<img src="cid:image-1.png" alt="shot" />');
  t.same(r.cids, ['image-1.png', 'b c.png']);
  const files = [
    { filename: 'image-1.png', contentType: 'image/png' },
    { filename: 'b c.png', contentType: 'text/html' },
    { filename: 'other.png', contentType: 'image/png' },
  ];
  t.same(markInlineImages(files, r.cids), [
    { filename: 'image-1.png', contentType: 'image/png', contentId: 'image-1.png', inline: true },
    { filename: 'b c.png', contentType: 'text/html' },
    { filename: 'other.png', contentType: 'image/png' },
  ], 'only images the text shows, and only raster types');
});

t.test('the entry HTML: formatted text, then the signature as written', async (t) => {
  const r = entryHtml('*hi*', 'Ann_B\n<Support> *team*');
  t.match(r.html, '<em>hi</em>');
  t.match(r.html, '<p>Ann_B<br>&lt;Support&gt; *team*</p>');
  t.equal(entryHtml('x', '').html, html('x'));
  t.equal(textToHtml('a & b\n\nc'), '<p>a &amp; b</p>\n<p>c</p>');
});
