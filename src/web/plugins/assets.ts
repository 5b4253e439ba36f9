import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { PUBLIC_DIR } from '../../paths.js';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Maps 'css/app.css' to '/assets/css/app.css?v=<content hash>', computed once at start. */
export function assetUrls(): (path: string) => string {
  const urls = new Map<string, string>();
  for (const file of walk(PUBLIC_DIR)) {
    const rel = relative(PUBLIC_DIR, file).split('\\').join('/');
    const v = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
    urls.set(rel, `/assets/${rel}?v=${v}`);
  }
  return (path) => {
    const url = urls.get(path);
    if (!url) throw new Error(`unknown asset ${path}`);
    return url;
  };
}

/** Served by the app itself, no CDN; URLs carry the content hash, so they can be cached for a year. */
export async function assetsPlugin(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/assets/',
    immutable: true,
    maxAge: '365d',
    index: false,
    list: false,
  });
}
