import type { Knex } from 'knex';
import type { Term } from './query.js';
import type { SearchEngine } from './search-port.js';
import { encodeToken } from './tokenize.js';

/**
 * Boolean-mode syntax for a term. Tokens are letters and digits only, so no operator of the boolean syntax can
 * come from a query. InnoDB has no prefix inside a phrase; phrases are exact anyway (query.ts).
 */
const expression = (t: Term): string => {
  const tokens = t.tokens.map(encodeToken);
  return tokens.length > 1 ? `"${tokens.join(' ')}"` : `${tokens[0]}${t.prefix ? '*' : ''}`;
};

// Without operators, boolean mode matches rows with any of the terms.
const against = (terms: Term[]): string => terms.map(expression).join(' ');

/**
 * MariaDB/MySQL: `tickets.search_tokens` and `thread_entries.search_tokens` carry InnoDB FULLTEXT indexes
 * (binary collation, see migration 0026). The MATCH is written twice, as filter and as score: InnoDB computes it
 * once.
 */
export class MysqlFulltext implements SearchEngine {
  matching(q: Knex, terms: Term[], notes: boolean): Knex.QueryBuilder {
    const a = against(terms);
    const tickets = q('tickets as t')
      .whereRaw('MATCH(t.search_tokens) AGAINST (? IN BOOLEAN MODE)', [a])
      .select(q.raw('COALESCE(t.merged_into_id, t.id) as ticket_id'), q.raw('MATCH(t.search_tokens) AGAINST (? IN BOOLEAN MODE) as score', [a]));
    return tickets.unionAll(this.entries(q, a, notes).select('e.ticket_id', q.raw('MATCH(e.search_tokens) AGAINST (? IN BOOLEAN MODE) as score', [a])));
  }

  matchingEntries(q: Knex, terms: Term[], notes: boolean): Knex.QueryBuilder {
    const a = against(terms);
    return this.entries(q, a, notes).select('e.id', 'e.ticket_id', 'e.body_text', q.raw('MATCH(e.search_tokens) AGAINST (? IN BOOLEAN MODE) as score', [a]));
  }

  private entries(q: Knex, a: string, notes: boolean): Knex.QueryBuilder {
    const query = q('thread_entries as e').whereRaw('MATCH(e.search_tokens) AGAINST (? IN BOOLEAN MODE)', [a]);
    if (!notes) query.whereNot('e.type', 'note');
    return query;
  }
}
