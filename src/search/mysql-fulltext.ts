import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import type { Term } from './query.js';
import type { ProbeRow, SearchEngine } from './search-port.js';
import { encodeToken } from './tokenize.js';

type Row = Record<string, unknown>;

const isPhrase = (t: Term): boolean => t.tokens.length > 1;

/**
 * Boolean-mode syntax for a term. Tokens are letters and digits only, so no operator of the boolean syntax can
 * come from a query. A phrase asks only for all its words (see the class comment); InnoDB has no prefix inside
 * a phrase, and phrases are exact anyway (query.ts).
 */
const expression = (t: Term): string => {
  const tokens = t.tokens.map(encodeToken);
  return isPhrase(t) ? `(${tokens.map((x) => `+${x}`).join(' ')})` : `${tokens[0]}${t.prefix ? '*' : ''}`;
};

// Without operators, boolean mode matches rows with any of the terms.
const against = (terms: Term[]): string => terms.map(expression).join(' ');

/** Whether stored tokens (space-separated, see indexText) hold a term: a phrase's tokens side by side. */
const holds = (tokens: string, t: Term): boolean => ` ${tokens} `.includes(` ${t.tokens.map(encodeToken).join(' ')}${t.prefix ? '' : ' '}`);

/**
 * Whether a row found by `against(terms)` really matches one of them. Only a phrase needs a second look, so
 * the tokens are read only for phrases (`tokensFor`); without them (undefined) InnoDB's answer stands.
 */
const matches = (tokens: string | undefined, terms: Term[]): boolean => tokens === undefined || terms.some((t) => holds(tokens, t));

const tokensFor = (alias: string, terms: Term[]): string[] => (terms.some(isPhrase) ? [`${alias}.search_tokens`] : []);

const MATCH = (alias: string) => `MATCH(${alias}.search_tokens) AGAINST (? IN BOOLEAN MODE)`;

/**
 * MariaDB/MySQL: `tickets.search_tokens` and `thread_entries.search_tokens` carry InnoDB FULLTEXT indexes
 * (binary collation, see migration 0026).
 *
 * InnoDB finds the matching document ids quickly even for a common word; what costs is reading each matching
 * row (for its ticket id), as slow as a read from disk once the table outgrows the buffer pool. So a MATCH in
 * WHERE, which makes the full-text index the access path, comes only with a LIMIT, which stops the reading
 * early. The checks within given tickets put the MATCH in the select list instead: the rows come by the ticket
 * index, and InnoDB looks each one's id up in the match it computed once (in WHERE, the MATCH would make the
 * full-text index the access path whatever else the WHERE says; HAVING applies after). InnoDB's relevance is
 * above zero for every matching row, even for a word in every row.
 *
 * InnoDB checks a phrase by reading every row that has all its words, before any LIMIT (1.5 s for "password
 * reset" at 100,000 tickets). So a phrase asks InnoDB for rows with all its words, and the rows read are
 * checked here against their stored tokens, where the phrase's tokens must stand side by side.
 */
export class MysqlFulltext implements SearchEngine {
  async probe(db: Database, term: Term, limit: number): Promise<{ rows: ProbeRow[]; complete: boolean }> {
    const a = against([term]);
    const rows: Row[] = await db.run((q) => {
      const tickets = q('tickets as t').whereRaw(MATCH('t'), [a]).limit(limit + 1)
        .select(q.raw('COALESCE(t.merged_into_id, t.id) as ticket_id'), q.raw(`${MATCH('t')} as score`, [a]), q.raw('0 as entry'), q.raw('0 as note'), ...tokensFor('t', [term]));
      const entries = q('thread_entries as e').whereRaw(MATCH('e'), [a]).limit(limit + 1)
        .select('e.ticket_id', q.raw(`${MATCH('e')} as score`, [a]), q.raw('1 as entry'), q.raw("e.type = 'note' as note"), ...tokensFor('e', [term]));
      return q.unionAll([tickets, entries], true);
    });
    const fields = rows.filter((r) => Number(r.entry) === 0).length;
    return {
      rows: rows.filter((r) => matches(r.search_tokens as string | undefined, [term]))
        .map((r) => ({ ticketId: Number(r.ticket_id), score: Number(r.score), entry: Number(r.entry) === 1, note: Number(r.note) === 1 })),
      complete: fields <= limit && rows.length - fields <= limit,
    };
  }

  async within(db: Database, terms: Term[], notes: boolean, ticketIds: number[]): Promise<Set<number>> {
    const a = against(terms);
    const rows: Row[] = await db.run((q) => {
      const tickets = q('tickets as t')
        .where((w) => w.whereIn('t.id', ticketIds).orWhereIn('t.merged_into_id', ticketIds))
        .select(q.raw('COALESCE(t.merged_into_id, t.id) as ticket_id'), ...tokensFor('t', terms), q.raw(`${MATCH('t')} as score`, [a]))
        .having('score', '>', 0);
      return q.unionAll([tickets, this.entries(q, a, notes, ticketIds, ['e.ticket_id', ...tokensFor('e', terms)])], true);
    });
    return new Set(rows.filter((r) => matches(r.search_tokens as string | undefined, terms)).map((r) => Number(r.ticket_id)));
  }

  async entriesWithin(db: Database, terms: Term[], notes: boolean, ticketIds: number[]): Promise<Array<{ id: number; ticketId: number; text: string }>> {
    const rows: Row[] = await db.run((q) => this.entries(q, against(terms), notes, ticketIds, ['e.id', 'e.ticket_id', 'e.body_text', ...tokensFor('e', terms)]));
    return rows.filter((r) => matches(r.search_tokens as string | undefined, terms)).map((r) => ({ id: Number(r.id), ticketId: Number(r.ticket_id), text: r.body_text as string }));
  }

  private entries(q: Knex, a: string, notes: boolean, ticketIds: number[], columns: string[]): Knex.QueryBuilder {
    const query = q('thread_entries as e').whereIn('e.ticket_id', ticketIds).select(...columns, q.raw(`${MATCH('e')} as score`, [a])).having('score', '>', 0);
    if (!notes) query.whereNot('e.type', 'note');
    return query;
  }
}
