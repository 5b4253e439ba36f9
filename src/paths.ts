import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The installation's root: the nearest directory above this module holding package.json. The module runs from
 * src/ under tsx and from dist/src/ once compiled, so a fixed number of `..` would be right for only one of them.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = findRoot(import.meta.dirname);
export const VIEWS_DIR = resolve(ROOT, 'views');
export const PUBLIC_DIR = resolve(ROOT, 'public');
export const LOCALES_DIR = resolve(ROOT, 'locales');
