import t from 'tap';
import { REINDEX_SETTING } from '../../src/search/search-index.js';
import { createSearchEngine } from '../../src/search/search-port.js';
import { SearchRepository } from '../../src/search/search-repository.js';
import { SearchService, type SearchFilters } from '../../src/search/search-service.js';
import { TicketRepository } from '../../src/tickets/ticket-repository.js';
import type { Principal } from '../../src/tickets/ticket.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { emptySearchIndex } from '../helpers/search.js';

/**
 * Search through the services, on whichever database the run uses (SQLite, or MariaDB with TEST_DATABASE_URL):
 * the same contract for FTS5 and InnoDB FULLTEXT. One database for the file; each subtest adds its own tickets
 * with words no other subtest uses.
 */
t.test('search', async (t) => {
  const { services, clock } = await createTestContext(t, { queuePageSize: 25 });
  const admin = await createAgent(services, { admin: true, departments: [] });
  const billing = await services.departments.ensure('Billing');
  const sales = await createAgent(services, { departments: ['Sales'] });
  const billingAgent = await createAgent(services, { departments: ['Billing'] });

  const open = async (subject: string, message: string, extra: Record<string, unknown> = {}) =>
    (await services.tickets.create(null, { name: 'Requester', email: `r${Math.random().toString(36).slice(2, 8)}@example.net`, subject, message, source: 'web', ...extra })).ticket;
  const search = (p: Principal, words: string, filters: SearchFilters = {}, more: { sort?: 'relevance' | 'updated'; after?: string | null; limit?: number } = {}) =>
    services.search.search(p, { words, filters, limit: more.limit ?? 25, sort: more.sort, after: more.after });
  const numbers = async (p: Principal, words: string, filters: SearchFilters = {}) => (await search(p, words, filters)).rows.map((r) => r.number).sort();

  await t.test('words in every field: subject, entries, requester, collaborators, file names, number', async (t) => {
    const a = await open('Quarterly zanzibar report', 'The fax machine smells of marmalade.', {
      name: 'Xavier Quillfeather', email: 'xq.person@quill-example.org',
      collaborators: [{ name: 'Cc Person', email: 'copyme@ccdomain.test' }],
      attachments: [{ filename: 'wombat-diagram.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF') }],
    });
    const p = admin.principal;
    for (const q of ['zanzibar', 'marmalade', 'Quillfeather', 'xq.person@quill-example.org', 'quill', 'copyme@ccdomain.test', 'ccdomain', 'wombat', 'wombat-diagram.pdf', a.number, `#${a.number}`]) {
      t.same(await numbers(p, q), [a.number], q);
    }
    t.same(await numbers(p, 'zanzibar marmalade quillfeather'), [a.number], 'words from different fields all match one ticket');
    t.same(await numbers(p, 'zanzibar nonexistentword'), [], 'every word must match');
  });

  await t.test('prefixes, phrases, exclusion', async (t) => {
    const a = await open('Printer jammed', 'The paper jam is in tray two.');
    const b = await open('Printing question', 'Jam the paper? No, the tray holds it.');
    const p = admin.principal;
    t.same(await numbers(p, 'print'), [a.number, b.number].sort(), 'print finds printer and printing');
    t.same(await numbers(p, 'printer'), [a.number]);
    t.same(await numbers(p, '"paper jam"'), [a.number], 'a phrase needs its words together');
    t.same(await numbers(p, 'print -jammed'), [b.number], 'exclusion');
    t.same(await numbers(p, 'print -"paper jam"'), [b.number], 'excluded phrase');
    t.same(await numbers(p, 'print -zebra -"paper jam"'), [b.number], 'excluded word and phrase: each only where it is');
    t.same(await numbers(p, '"paper jam'), [a.number, b.number].sort(), 'an open quote is ignored');
  });

  await t.test('any language: accents, Danish letters, Cyrillic, Greek, CJK', async (t) => {
    const da = await open('Møde på søndag', 'Kære Åse, vi ses i Ærøskøbing.');
    const fr = await open('Réunion café', 'Le problème est résolu.');
    const ru = await open('Принтер не печатает', 'Ёлка и бумага');
    const el = await open('Ο εκτυπωτής', 'Δεν λειτουργεί σωστά');
    const zh = await open('打印机坏了', '我的打印机不能用');
    const ja = await open('プリンター', 'プリンターが壊れました');
    const ko = await open('프린터 고장', '프린터가 작동하지 않습니다');
    const p = admin.principal;
    const cases: Array<[string, string]> = [
      ['søndag', da.number], ['sondag', da.number], ['SØNDAG', da.number], ['aerosko', da.number], ['ase', da.number],
      ['cafe', fr.number], ['café', fr.number], ['probleme', fr.number], ['resol', fr.number],
      ['принтер', ru.number], ['принт', ru.number], ['елка', ru.number], ['ёлка', ru.number],
      ['εκτυπωτης', el.number], ['λειτουργει', el.number],
      ['打印机', zh.number], ['打印', zh.number], ['机', zh.number], ['不能用', zh.number],
      ['プリンター', ja.number], ['壊れ', ja.number], ['프린터', ko.number], ['고장', ko.number],
    ];
    for (const [q, n] of cases) t.same(await numbers(p, q), [n], q);
    t.same(await numbers(p, '能用打'), [], 'characters out of order are no match');
  });

  await t.test('short words and the engines\' stop words stay findable', async (t) => {
    const a = await open('The PC will not boot', 'It is about the fan: it stops and then it will start again.');
    const p = admin.principal;
    t.same(await numbers(p, 'pc'), [a.number], 'a two-letter word (below InnoDB\'s minimum token size)');
    t.same(await numbers(p, '"will not boot"'), [a.number], 'a phrase with a stop word of InnoDB\'s');
    t.same(await numbers(p, '"about the fan"'), [a.number]);
    t.same(await numbers(p, '"about the boot"'), [], 'and the phrase still means it');
    t.same(await numbers(p, 'about fan'), [a.number], 'about is no stop word of ours');
    const stops = await search(p, 'the and of');
    t.ok(stops.noWords, 'only stop words: no words, the filters alone');
  });

  await t.test('hostile queries are read sensibly and never fail', async (t) => {
    const a = await open('Syntax survivor', 'contains zqxv and symbols');
    const p = admin.principal;
    for (const q of ['zqxv"', 'zqxv*', '(zqxv)', '+zqxv', '~zqxv', '@zqxv', 'zqxv AND', `zqxv ${'"'.repeat(7)}`]) {
      t.same((await search(p, q)).rows.map((x) => x.number), [a.number], q);
    }
    for (const q of ['"*:()^-+@<>~', 'zqxv^2', 'zqxv:body', 'zqxv OR 1=1', "zqxv'; DROP TABLE tickets; --", 'NEAR(zqxv)', '"""', '-', '-"', '\\', '%_', '\u0000', 'zqxv '.repeat(2000) + 'x'.repeat(10000)]) {
      t.ok(Array.isArray((await search(p, q)).rows), JSON.stringify(q.slice(0, 40)));
    }
    await t.rejects(search(p, 'x', { createdFrom: new Date('2026-02-01T00:00:00Z'), createdTo: new Date('2026-01-01T00:00:00Z') }), { code: 'VALIDATION_FAILED' });
  });

  await t.test('access: an agent never learns of tickets outside their departments; notes match only for staff', async (t) => {
    const b = await open('Invoice kumquat', 'Billing question about kumquat pricing', { departmentId: billing.id });
    await services.tickets.note(billingAgent.principal, b.number, 'internal remark persimmon');
    const forSales = await search(sales.principal, 'kumquat');
    t.same(forSales.rows, [], 'no rows');
    t.equal(forSales.total, 0, 'and no count');
    t.same((await search(sales.principal, '', { departmentId: billing.id })).rows, [], 'nor by filters alone');
    t.same(await numbers(billingAgent.principal, 'kumquat'), [b.number]);
    t.same(await numbers(billingAgent.principal, 'persimmon'), [b.number], 'staff find notes');
    const requester = await services.users.findOrCreate('x', (await services.tickets.get(admin.principal, b.number)).requesterEmail);
    const client: Principal = { kind: 'client', userId: requester.id, ticketId: null };
    t.same(await numbers(client, 'kumquat'), [b.number], 'the requester finds their ticket');
    t.same(await numbers(client, 'persimmon'), [], 'but not by an internal note');
    const assigned = await open('Sales handoff rambutan', 'x', { departmentId: billing.id });
    t.same(await numbers(sales.principal, 'rambutan'), []);
    await services.db.knex('tickets').where({ id: assigned.id }).update({ assignee_id: sales.principal.staffId });
    t.same(await numbers(sales.principal, 'rambutan'), [assigned.number], 'a ticket assigned to the agent is theirs to find');
    const salesDept = (await services.departments.list()).find((d) => d.name === 'Sales')!;
    await services.tickets.transfer(billingAgent.principal, b.number, salesDept.id);
    t.same(await numbers(sales.principal, 'kumquat'), [b.number], 'transfer: the new department finds it');
    t.same(await numbers(billingAgent.principal, 'kumquat'), [], 'and the old one no longer does');
  });

  await t.test('the index is in step after reply, note, inbound mail, collaborators, merge, split and delete', async (t) => {
    const a = await open('Step ticket alpha', 'first words');
    const p = admin.principal;
    await services.tickets.respond(p, a.number, 'response mentions gooseberry');
    t.same(await numbers(p, 'gooseberry'), [a.number], 'reply');
    await services.tickets.note(p, a.number, 'note mentions loganberry', [{ filename: 'lingonberry.txt', contentType: 'text/plain', data: Buffer.from('x') }]);
    t.same(await numbers(p, 'loganberry'), [a.number], 'note');
    t.same(await numbers(p, 'lingonberry'), [a.number], 'note attachment');
    await services.tickets.addInboundMessage(a.id, { name: 'R', email: a.requesterEmail, bodyText: 'mail says cloudberry', bodyHtml: null, attachments: [], messageId: null, source: 'email', agent: null, verification: 'verified', fromNonParticipant: false });
    t.same(await numbers(p, 'cloudberry'), [a.number], 'inbound mail');
    await services.relations.addCollaborator(p, a.number, { email: 'huckleberry@cc.test', name: 'Huck' });
    t.same(await numbers(p, 'huckleberry'), [a.number], 'collaborator added');
    const huck = await services.users.findOrCreate('Huck', 'huckleberry@cc.test');
    await services.relations.removeCollaborator(p, a.number, huck.id);
    t.same(await numbers(p, 'huckleberry'), [], 'collaborator removed');

    const b = await open('Step ticket bravo elderberry', 'second mentions mulberry');
    const merged = await services.merges.merge(p, { number: a.number, others: b.number, survivor: a.number, notify: false });
    t.equal(merged.number, a.number);
    t.same(await numbers(p, 'mulberry'), [a.number], 'merge: the merged entries find the survivor');
    t.same(await numbers(p, 'elderberry'), [a.number], 'merge: so does the merged subject');
    t.same(await numbers(p, b.number), [a.number], 'merge: and the merged number');

    const split = await services.nonParticipantEntries.split(p, a.number, (await services.tickets.view(p, a.number)).entries.find((e) => e.bodyText.includes('cloudberry'))!.id);
    t.same(await numbers(p, 'cloudberry'), [split.number], 'split: the entry finds its new ticket only');

    await services.ticketRemoval.delete(p, a.number);
    t.same(await numbers(p, 'gooseberry'), [], 'delete');
    t.same(await numbers(p, 'mulberry'), []);
  });

  await t.test('filters alone and with words; keyset paging walks each ticket once', async (t) => {
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(i % 2 ? 0 : 1000);
      made.push((await open(`Paging tamarind ${i}`, i % 2 ? 'tamarind tamarind tamarind' : 'tamarind once', { priority: i % 2 ? 4 : 2 })).number);
    }
    const p = admin.principal;
    t.same((await numbers(p, 'tamarind', { priority: 4 })).length, 3);
    t.same((await numbers(p, 'tamarind', { assignee: 'someone' })), []);
    t.same((await numbers(p, 'tamarind', { statuses: ['closed'] })), []);
    t.ok((await search(p, '', { priority: 4 })).rows.length >= 3, 'filters alone');
    for (const sort of ['relevance', 'updated'] as const) {
      const seen: string[] = [];
      let after: string | null = null;
      let total = 0;
      do {
        const r = await search(p, 'tamarind', {}, { sort, after, limit: 3 });
        total = r.total;
        seen.push(...r.rows.map((x) => x.number));
        after = r.next;
      } while (after);
      t.equal(total, 7, `${sort}: count`);
      t.same([...seen].sort(), [...made].sort(), `${sort}: every ticket once`);
    }
    const urgent = made.filter((_, i) => i % 2);
    await services.db.knex('tickets').where({ number: urgent[0] }).update({ status: 'resolved' });
    await services.db.knex('tickets').where({ number: urgent[1] }).update({ status: 'closed' });
    const byFilters: string[] = [];
    let after: string | null = null;
    do {
      const r = await search(p, '', { priority: 4 }, { after, limit: 1 });
      byFilters.push(...r.rows.map((x) => x.number));
      after = r.next;
    } while (after);
    t.equal(new Set(byFilters).size, byFilters.length, 'filters alone: no ticket twice across statuses');
    t.ok(urgent.every((n) => byFilters.includes(n!)), 'and every status walked');
    const first = await search(p, 'tamarind', {}, { sort: 'relevance' });
    t.ok(first.rows[0]!.snippetHtmlSanitized?.includes('<mark>tamarind</mark>'), 'snippet marks the word');
    t.same((await search(p, 'tamarind', {}, { after: 'not-a-cursor' })).rows.length, 7, 'a foreign cursor reads as the first page');
  });

  await t.test('a common word is read in part, the rarest word drives, and exclusions stay exact', async (t) => {
    // Probes of two rows: a word in three entries is a common word here, as one in thousands is at scale.
    const small = new SearchService({ repo: new SearchRepository(services.db, createSearchEngine(services.db), 2), rows: (ids) => new TicketRepository(services.db).listRows(ids) });
    const rare = await open('Spice order one', 'saffron and vanilla nutmeg');
    const common: Array<{ number: string }> = [];
    for (let i = 0; i < 3; i++) common.push(await open(`Spice order ${i + 2}`, i < 2 ? 'saffron nutmeg' : 'saffron only'));
    const p = admin.principal;
    const find = async (words: string) => (await small.search(p, { words, filters: {}, limit: 25 }));
    const all = await search(p, 'saffron');
    t.same([all.rows.length, all.total, all.more], [4, 4, false], 'read in full: every match, counted');
    const part = await find('saffron');
    t.same([part.rows.length, part.total, part.more], [3, 3, true], 'read in part: the rows probed, and the count says "more than"');
    t.same((await find('saffron vanilla')).rows.map((r) => r.number), [rare.number], 'a rare word finds its ticket beside a common one');
    t.notOk((await find('saffron -vanilla')).rows.some((r) => r.number === rare.number), 'an exclusion applies to every ticket shown');
    t.same((await find('vanilla -saffron')).rows, [], 'and a common word excludes exactly');
    t.same((await find('vanilla -nutmeg')).rows, [], 'a common exclusion');
    t.same((await find('saffron nutmeg vanilla')).rows.map((r) => r.number), [rare.number], 'three words, two of them common');
    t.ok((await find('saffron -nutmeg')).rows.every((r) => r.number === common[2]!.number), 'two common words: among the rows probed, exactly');
    const requester = await services.users.findOrCreate('x', (await services.tickets.get(p, rare.number)).requesterEmail);
    const client: Principal = { kind: 'client', userId: requester.id, ticketId: null };
    const own = await small.search(client, { words: 'saffron', filters: {}, limit: 25 });
    t.same([own.rows.map((r) => r.number), own.more], [[rare.number], false], 'a client searches their own tickets, however common the word');
  });

  await t.test('reindex rebuilds the index in resumable batches', async (t) => {
    await open('Reindex quince', 'rebuilt words pomelo');
    const p = admin.principal;
    await emptySearchIndex(services.db);
    t.same(await numbers(p, 'pomelo'), [], 'an empty index finds nothing');
    await services.searchIndex.restartReindex();
    const first = await services.searchIndex.reindexStep(5);
    t.equal(first!.done, 5);
    t.equal(await services.settings.get(REINDEX_SETTING), String(first!.lastId), 'progress is kept');
    let step = first;
    while (step) step = await services.searchIndex.reindexStep(5);
    t.same((await numbers(p, 'pomelo')).length, 1, 'found again');
    t.same((await numbers(p, 'tamarind')).length, 7);
    t.same(await numbers(p, 'mulberry'), [], 'deleted tickets stay gone');
  });
});
