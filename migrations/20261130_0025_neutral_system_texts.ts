import type { Knex } from 'knex';

export const config = { transaction: false };

/** What mail intake stored in English before it stored a language-neutral form (issue 9). */
const OLD_TEXTS = {
  noSubject: '(no subject)',
  noText: ['(no text; see the attachments)', '(empty message)'],
  shortened: '\n\n[The message was shortened here; the original is kept in full.]',
  bounceAuthor: 'Mail delivery system',
  bouncePrefix: 'A message about this ticket could not be delivered.\n\n',
} as const;

/**
 * Mail intake stored English placeholders ("(no subject)", "(empty message)", a shortening marker, a bounce
 * note's author and first line), which a Danish or Estonian reader then saw in English. Intake now stores an
 * empty subject or body, these two marks on the entry, and the report alone; the pages, the notices and the
 * API say the rest in the reader's language. Only rows intake wrote (source 'email') are converted, so a
 * subject someone typed in the portal stays as typed. Each step finds nothing to do when run again.
 */
export async function up(knex: Knex): Promise<void> {
  const columns: Array<[string, (t: Knex.AlterTableBuilder) => void]> = [
    // 'bounce' for a delivery report the system noted on the ticket; null for entries people wrote.
    ['system_kind', (t) => t.string('system_kind', 16).nullable()],
    // The mail's text was longer than an entry holds: the entry keeps its start, the raw message all of it.
    ['body_truncated', (t) => t.boolean('body_truncated').notNullable().defaultTo(false)],
  ];
  for (const [name, add] of columns) {
    if (!(await knex.schema.hasColumn('thread_entries', name))) await knex.schema.alterTable('thread_entries', add);
  }

  await knex('tickets').where({ source: 'email', subject: OLD_TEXTS.noSubject }).update({ subject: '' });
  await knex('thread_entries').where({ source: 'email' }).whereIn('body_text', [...OLD_TEXTS.noText]).update({ body_text: '' });
  // REPLACE is case-sensitive on both dialects (unlike LIKE under MariaDB's collation), and the marker, with the
  // blank line before it, ends the text only where intake put it.
  await knex('thread_entries')
    .where({ source: 'email' })
    .where('body_text', 'like', `%${OLD_TEXTS.shortened}`)
    .update({ body_text: knex.raw('replace(body_text, ?, ?)', [OLD_TEXTS.shortened, '']), body_truncated: true });
  const bounces = () => knex('thread_entries').where({ source: 'email', type: 'note', author_name: OLD_TEXTS.bounceAuthor }).whereNull('staff_id').whereNull('user_id');
  // SUBSTR counts characters on both dialects; the prefix is ASCII either way.
  await bounces()
    .where('body_text', 'like', `${OLD_TEXTS.bouncePrefix}%`)
    .update({ body_text: knex.raw('substr(body_text, ?)', [OLD_TEXTS.bouncePrefix.length + 1]) });
  await bounces().update({ author_name: '', system_kind: 'bounce' });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
