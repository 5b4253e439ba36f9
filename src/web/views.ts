import fastifyView from '@fastify/view';
import { Eta, type EtaConfig } from 'eta';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { I18n } from '../i18n/i18n.js';
import type { Translator } from '../i18n/translator.js';

type Plugin = EtaConfig['plugins'][number];

/** `it.t('a.key')` or `it.tHtml('a.key')`: a lookup of a literal key with nothing else. */
const LITERAL_LOOKUP = /(?<![\w.$])it\.(?:t|tHtml)\(\s*(['"])([\w.-]+)\1\s*\)/g;
const WHOLE_LOOKUP = new RegExp(`^\\s*${LITERAL_LOOKUP.source}\\s*$`);

/**
 * Output text for the compiled function, which holds the template's text in '...' literals. Line ends are kept
 * as they are: eta makes the template's own \r\n a \n, but a label prints as the catalog has it.
 */
const templateText = (s: string) => s.replace(/\\|'/g, '\\$&').replace(/\r/g, '\\r').replace(/\n/g, '\\n');

/**
 * Inlines each literal lookup of a label (a message with no placeholder and no tag) when eta compiles the
 * template, so a page does not ask for about 60 labels each time. A tag that prints only the label
 * (`<%= it.t('a.key') %>`, `<%~ ... %>`) becomes the text it prints, filtered and escaped by the functions eta
 * would call; a label inside other code becomes a string literal there. Either way the page is what the call
 * would have printed. Text outside the tags is left alone, and any other lookup stays a call.
 */
export function labelsInlined(tr: Translator): Plugin {
  const literal = (call: string, _q: string, key: string) => {
    const text = tr.label(key);
    return text === null ? call : JSON.stringify(text);
  };
  return {
    processAST: (ast, config) =>
      ast.map((node) => {
        if (typeof node === 'string') return node;
        const whole = node.t === 'i' || node.t === 'r' ? WHOLE_LOOKUP.exec(node.val) : null;
        let text = whole ? tr.label(whole[2]!) : null;
        if (text === null) return { ...node, val: node.val.replace(LITERAL_LOOKUP, literal) };
        if (config!.autoFilter) text = String(config!.filterFunction(text));
        if (node.t === 'i' && config!.autoEscape) text = config!.escapeFunction(text);
        return templateText(text);
      }),
  };
}

const viewAsync = (language: string) => `view_${language}Async`;

type ViewAsync = (this: FastifyReply, page: string, data: object) => Promise<string>;

/**
 * One @fastify/view per offered language, each with an eta of its own: a compiled template holds one
 * language's labels, so each language needs its own cache, and includes (layouts, partials) must resolve in
 * the same eta. @fastify/view's `propertyName` is its own way to run several; the language's is picked per
 * page by `renderView`.
 */
export async function registerViews(app: FastifyInstance, i18n: I18n, views: string): Promise<void> {
  for (const { code } of i18n.languages) {
    await app.register(fastifyView, {
      engine: { eta: new Eta({ views, cache: true, autoEscape: true, plugins: [labelsInlined(i18n.translator(code))] }) },
      root: views,
      production: true,
      propertyName: `view_${code}`,
      asyncPropertyName: viewAsync(code),
    });
  }
}

/** The page in the language whose labels its template was compiled with. */
export function renderView(reply: FastifyReply, language: string, page: string, data: object): Promise<string> {
  const view = (reply as unknown as Record<string, ViewAsync>)[viewAsync(language)]!;
  return view.call(reply, page, data);
}
