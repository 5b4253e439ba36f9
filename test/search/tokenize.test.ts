import t from 'tap';
import { parseQuery } from '../../src/search/query.js';
import { snippetHtml } from '../../src/search/snippet.js';
import { encodeToken, indexText, tokenize } from '../../src/search/tokenize.js';

t.test('tokenize: one table for every script and shape', async (t) => {
  const cases: Array<[string, string[], string[]?]> = [
    ['Printer on FIRE', ['printer', 'on', 'fire']],
    ['Café crème brûlée', ['cafe', 'creme', 'brulee']],
    ['søndag, Ærø, Straße, Łódź', ['sondag', 'aero', 'strasse', 'lodz']],
    ['Tänan väga, õun', ['tanan', 'vaga', 'oun']],
    ['ＦＵＬＬ－ｗｉｄｔｈ ①', ['full', 'width', '1']],
    ['Принтер не печатает, ёлка', ['принтер', 'не', 'печатает', 'елка']],
    ['Ο εκτυπωτής ΔΕΝ λειτουργεί', ['ο', 'εκτυπωτησ', 'δεν', 'λειτουργει']],
    ['bob.smith@Example.COM', ['bob', 'smith', 'example', 'com']],
    ['#12345678 and ticket 0042', ['12345678', 'and', 'ticket', '0042']],
    ['打印机坏了', ['打印', '印机', '机坏', '坏了', '了'], ['打印', '印机', '机坏', '坏了']],
    ['机', ['机'], ['机']],
    ['プリンターが壊れた', ['プリ', 'リン', 'ンタ', 'ター', 'ーが', 'が壊', '壊れ', 'れた', 'た'], ['プリ', 'リン', 'ンタ', 'ター', 'ーが', 'が壊', '壊れ', 'れた']],
    ['프린터 고장', ['프린', '린터', '터', '고장', '장'], ['프린', '린터', '고장']],
    ['iPhone手机', ['iphone', '手机', '机'], ['iphone', '手机']],
    ['"*:()^-+@<>~', []],
    ['a'.repeat(100), ['a'.repeat(60)]],
  ];
  for (const [text, doc, query] of cases) {
    t.same(tokenize(text), doc, `document: ${text.slice(0, 30)}`);
    t.same(tokenize(text, 'query'), query ?? doc, `query: ${text.slice(0, 30)}`);
  }
});

t.test('every indexed token is at least three letters and no InnoDB stop word', async (t) => {
  for (const tok of indexText('a I the about will com pc 机').split(' ')) {
    t.ok([...tok].length >= 3, tok);
    t.match(tok, /^[\p{L}\p{N}\p{M}]+$/u);
  }
  t.equal(encodeToken('the'), 'zzthe');
});

t.test('parseQuery: words, prefixes, phrases, exclusions and hostile input', async (t) => {
  const cases: Array<[string, ReturnType<typeof parseQuery>]> = [
    ['print', { terms: [{ tokens: ['print'], prefix: true }], excluded: [] }],
    ['pc', { terms: [{ tokens: ['pc'], prefix: false }], excluded: [] }],
    ['printer -toner', { terms: [{ tokens: ['printer'], prefix: true }], excluded: [{ tokens: ['toner'], prefix: true }] }],
    ['"paper jam" tray', { terms: [{ tokens: ['paper', 'jam'], prefix: false }, { tokens: ['tray'], prefix: true }], excluded: [] }],
    ['-"paper jam"', { terms: [], excluded: [] }],
    ['bob@example.com', { terms: [{ tokens: ['bob', 'example', 'com'], prefix: false }], excluded: [] }],
    ['"printer', { terms: [{ tokens: ['printer'], prefix: true }], excluded: [] }],
    ['"to be or not to be"', { terms: [{ tokens: ['to', 'be', 'or', 'not', 'to', 'be'], prefix: false }], excluded: [] }],
    ['the and of', { terms: [], excluded: [] }],
    ['"*:()^-+@<>~ -- * ()', { terms: [], excluded: [] }],
    ["x' OR 1=1; DROP TABLE tickets --", { terms: [{ tokens: ['x'], prefix: false }, { tokens: ['1', '1'], prefix: false }, { tokens: ['drop'], prefix: true }, { tokens: ['table'], prefix: true }, { tokens: ['tickets'], prefix: true }], excluded: [] }],
    ['打印机', { terms: [{ tokens: ['打印', '印机'], prefix: false }], excluded: [] }],
    ['机', { terms: [{ tokens: ['机'], prefix: true }], excluded: [] }],
    ['Søndag SØNDAG', { terms: [{ tokens: ['sondag'], prefix: true }], excluded: [] }],
  ];
  for (const [q, want] of cases) t.same(parseQuery(q), want, q);
  const long = parseQuery('word '.repeat(2000));
  t.equal(long.terms.length, 1, 'a 10,000-character query is cut, and repeats are one term');
  t.ok(parseQuery(Array.from({ length: 50 }, (_, i) => `w${i}x`).join(' ')).terms.length <= 12);
});

t.test('snippets mark the matched words and escape everything else', async (t) => {
  const q = parseQuery('print');
  t.equal(snippetHtml('The <b>printer</b> & the Printing press', q.terms), 'The &#60;b&#62;<mark>printer</mark>&#60;/b&#62; &#38; the <mark>Printing</mark> press');
  t.equal(snippetHtml('nothing here', q.terms), null);
  const far = `${'filler '.repeat(50)}printer at last`;
  t.match(snippetHtml(far, q.terms), /^… .*<mark>printer<\/mark> at last$/);
  t.equal(snippetHtml('我的打印机坏了', parseQuery('打印机').terms), '我的<mark>打印机</mark>坏了');
  t.equal(snippetHtml('Kære Søren', parseQuery('soren').terms), 'Kære <mark>Søren</mark>');
});
