import type { HelpTopic } from './topic-repository.js';

/** A topic placed in the tree: its full name ("Hardware / Printer") and depth. */
export interface TopicNode extends HelpTopic {
  path: string;
  depth: number;
}

const PATH_SEPARATOR = ' / ';

/**
 * The topics in display order: each parent followed by its children, siblings in their positions (`all`
 * comes sorted so). A topic whose parent is missing from `all` (never, with the foreign key) shows at the top.
 */
export function topicTree(all: HelpTopic[]): TopicNode[] {
  const ids = new Set(all.map((t) => t.id));
  const children = new Map<number | null, HelpTopic[]>();
  for (const t of all) {
    const parent = t.parentId !== null && ids.has(t.parentId) ? t.parentId : null;
    children.set(parent, [...(children.get(parent) ?? []), t]);
  }
  const out: TopicNode[] = [];
  // A cycle cannot be saved (wouldCycle), but a visited set keeps a hand-edited row from looping here.
  const seen = new Set<number>();
  const walk = (parentId: number | null, prefix: string, depth: number) => {
    for (const t of children.get(parentId) ?? []) {
      if (seen.has(t.id)) continue;
      seen.add(t.id);
      const path = prefix ? `${prefix}${PATH_SEPARATOR}${t.name}` : t.name;
      out.push({ ...t, path, depth });
      walk(t.id, path, depth + 1);
    }
  };
  walk(null, '', 0);
  return out;
}

/** The ids of a topic's subtopics, theirs, and so on. */
export function descendants(all: HelpTopic[], id: number): number[] {
  const out: number[] = [];
  let frontier = [id];
  while (frontier.length) {
    const next = all.filter((t) => t.parentId !== null && frontier.includes(t.parentId) && !out.includes(t.id) && t.id !== id).map((t) => t.id);
    out.push(...next);
    frontier = next;
  }
  return out;
}

/** Whether making `parentId` the parent of `id` would put the topic under itself. */
export function wouldCycle(all: HelpTopic[], id: number, parentId: number): boolean {
  return parentId === id || descendants(all, id).includes(parentId);
}
