/**
 * What domain code says to a user: a catalog key and its parameters, never a sentence. The web layer and the
 * mail notices translate it into the reader's language (src/i18n/translator.ts); domain code stays
 * language-free and imports nothing else from here.
 */
export type MessageParams = Record<string, string | number | Date>;

export interface Message {
  key: string;
  params?: MessageParams;
}

/** A key alone, or a key with parameters. */
export type Msg = string | Message;

export const msg = (key: string, params?: MessageParams): Message => (params ? { key, params } : { key });

export const toMessage = (m: Msg): Message => (typeof m === 'string' ? { key: m } : m);
