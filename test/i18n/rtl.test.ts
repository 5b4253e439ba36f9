import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { PUBLIC_DIR } from '../../src/paths.js';

/**
 * Issue 9, item 7: the stylesheet says start and end, never left and right, so a right-to-left catalog (dir="rtl"
 * on <html> from its Language) mirrors the layout by itself. test/e2e/pseudo-locale.test.ts lays pages out in
 * Chromium with dir="rtl".
 */

/** The sides of margin/padding/inset/border shorthands with four values: top, right, bottom, left. */
const FOUR_SIDED = new Set(['margin', 'padding', 'inset', 'scroll-margin', 'scroll-padding', 'border-width', 'border-style', 'border-color']);
const SIDED_VALUES = new Set(['text-align', 'float', 'clear', 'justify-content', 'justify-items', 'justify-self', 'caption-side', 'resize']);

const LOGICAL: Record<string, string> = {
  left: 'inset-inline-start',
  right: 'inset-inline-end',
  'text-align': 'start / end',
  float: 'inline-start / inline-end',
  clear: 'inline-start / inline-end',
};

/** margin-left → margin-inline-start, border-top-right-radius → border-start-end-radius. */
const logicalName = (prop: string) =>
  prop
    .replace(/^border-(top|bottom)-(left|right)-radius$/, (_, v: string, h: string) => `border-${v === 'top' ? 'start' : 'end'}-${h === 'left' ? 'start' : 'end'}-radius`)
    .replace(/-(left|right)\b/, (_, side: string) => (side === 'left' ? '-inline-start' : '-inline-end'));

export function physicalDeclarations(css: string, file: string): string[] {
  const found: string[] = [];
  const text = css.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
  for (const block of text.matchAll(/\{([^{}]*)\}/g)) {
    let offset = block.index + 1;
    for (const decl of block[1]!.split(';')) {
      const m = /^\s*([\w-]+)\s*:\s*([\s\S]*?)\s*$/.exec(decl);
      if (m) {
        const [prop, value] = [m[1]!.toLowerCase(), m[2]!.toLowerCase().replace(/\s*!important$/, '')];
        const line = text.slice(0, offset + decl.search(/\S/)).split('\n').length;
        const where = `${file}:${line}: ${prop}: ${m[2]}`;
        if (prop === 'left' || prop === 'right' || /-(left|right)(-|$)/.test(prop)) found.push(`${where} (use ${LOGICAL[prop] ?? logicalName(prop)})`);
        else if (SIDED_VALUES.has(prop) && /\b(left|right)\b/.test(value)) found.push(`${where} (use ${LOGICAL[prop] ?? 'start / end'})`);
        else if (FOUR_SIDED.has(prop)) {
          const parts = value.split(/\s+(?![^(]*\))/);
          if (parts.length === 4 && parts[1] !== parts[3]) found.push(`${where} (right and left differ: use ${prop}-block and ${prop}-inline-start / -end)`);
        } else if (/^background(-position)?(-x)?$/.test(prop) && /\b(left|right)\b/.test(value)) found.push(`${where} (a side that does not mirror)`);
      }
      offset += decl.length + 1;
    }
  }
  return found;
}

t.test('the scan', async (t) => {
  const css = 'a:hover { color: red }\n.x { margin-left: 1px; text-align: right; float: left }\n@media (max-width: 4px) {\n  .y { padding: 0 1px 0 2px; border-top-left-radius: 3px; left: 0 }\n  .z { margin: 0 auto; padding: 1px 2px 3px 2px; text-align: start; border-inline-start: 1px solid }\n}';
  t.same(physicalDeclarations(css, 'a.css'), [
    'a.css:2: margin-left: 1px (use margin-inline-start)',
    'a.css:2: text-align: right (use start / end)',
    'a.css:2: float: left (use inline-start / inline-end)',
    'a.css:4: padding: 0 1px 0 2px (right and left differ: use padding-block and padding-inline-start / -end)',
    'a.css:4: border-top-left-radius: 3px (use border-start-start-radius)',
    'a.css:4: left: 0 (use inset-inline-start)',
  ]);
});

t.test('public/css/app.css uses logical properties only', async (t) => {
  const file = join(PUBLIC_DIR, 'css', 'app.css');
  t.same(physicalDeclarations(readFileSync(file, 'utf8'), 'public/css/app.css'), [], 'declarations to make logical');
});
