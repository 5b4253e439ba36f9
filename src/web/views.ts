import fastifyView from '@fastify/view';
import { Eta, type EtaConfig } from 'eta';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { I18n } from '../i18n/i18n.js';
import type { Translator } from '../i18n/translator.js';

type Plugin = EtaConfig['plugins'][number];

/** `it.t('a.key')` or `it.tHtml('a.key')`: a lookup of a literal key with nothing else. */
const LITERAL_LOOKUP = /(?<![\w.$])it\.(?:t|tHtml)\(\s*(['"])([\w.-]+)\1\s*\)/g;

/**
 * Replaces each literal lookup of a label (a message with no placeholder and no tag) in the template's code by
 * the label's text as a string literal, once, when eta compiles the template. The tag around it still escapes
 * (`<%=`) or not (`<%~`), so the page is what the call would have printed; a page asks for about 60 labels.
 * Text outside the tags is left alone, and any other lookup stays a call.
 */
export function labelsInlined(tr: Translator): Plugin {
  return {
    processAST: (ast) =>
      ast.map((node) =>
        typeof node === 'string'
          ? node
          : { ...node, val: node.val.replace(LITERAL_LOOKUP, (call, _q: string, key: string) => {
            const text = tr.label(key);
            return text === null ? call : JSON.stringify(text);
          }) },
      ),
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
