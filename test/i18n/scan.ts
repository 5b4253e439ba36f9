import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../../src/paths.js';

export interface SourceFile {
  /** Relative to the repository root, as a failure names it. */
  path: string;
  text: string;
}

function walk(dir: string, ext: string, recursive: boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...walk(p, ext, true));
    } else if (e.name.endsWith(ext)) out.push(p);
  }
  return out.sort();
}

const read = (paths: string[]): SourceFile[] => paths.map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }));

/** Every template. */
export const templates = (): SourceFile[] => read(walk(join(ROOT, 'views'), '.eta', true));

/** Everything that may name a catalog key: the code, the templates, the browser scripts and the CLI. */
export const keySources = (): SourceFile[] =>
  read([
    ...walk(join(ROOT, 'src'), '.ts', true),
    ...walk(join(ROOT, 'views'), '.eta', true),
    ...walk(join(ROOT, 'public', 'js'), '.js', false),
    ...walk(join(ROOT, 'scripts'), '.ts', false),
  ]);

/** The 1-based line of an offset, for failures that say where to look. */
export const lineOf = (text: string, offset: number): number => text.slice(0, offset).split('\n').length;
