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

/**
 * MariaDB/MySQL: `search_docs.tokens` carries an InnoDB FULLTEXT index (binary collation: our tokens are
 * already folded, and the column collation would fold further, e.g. ß to ss on one side only). InnoDB applies
 * the index change at commit, so a search after the change's transaction sees it, on any node.
 */
export class MysqlFulltext implements SearchEngine {
  readonly input = 'search_docs';

  matching(q: Knex, terms: Term[], notes: boolean): Knex.QueryBuilder {
    // Without operators, boolean mode matches rows with any of the terms.
    const against = terms.map(expression).join(' ');
    const query = q('search_docs as d')
      .whereRaw('MATCH(d.tokens) AGAINST (? IN BOOLEAN MODE)', [against])
      .select('d.ticket_id', q.raw('MATCH(d.tokens) AGAINST (? IN BOOLEAN MODE) as score', [against]));
    if (!notes) query.where('d.staff_only', false);
    return query;
  }
}
