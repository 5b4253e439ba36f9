import type { ResultSort } from '../search/search-service.js';

/** A search kept as a queue (issue 11, item 4): one agent's own, or shared with every agent (`staffId` null). */
export interface SavedQueue {
  id: number;
  name: string;
  staffId: number | null;
  /** The search's words and filters as its URL keeps them (search/search-url.ts), without order or page. */
  query: string;
  /** What the queue opens sorted by: the search's order when it was saved. */
  sort: ResultSort;
}

/** Names are short: they stand in the queue bar beside the built-in queues. */
export const NAME_MAX = 60;
/** Folding can lengthen a name (æ → ae, ligatures): its key has room for that (saved_queues.name_key). */
export const NAME_KEY_MAX = 120;
