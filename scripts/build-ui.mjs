#!/usr/bin/env node
// Builds the MCP App views: each ui/<view>.html with its stylesheet and scripts inlined into one self-contained file
// in dist/ui/ (no network but what the view's CSP declares). Part of `npm run build`; fails past 100 KB a view.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'ui');
const out = join(root, 'dist', 'ui');
const LIMIT = 100 * 1024;
mkdirSync(out, { recursive: true });

const read = (name) => readFileSync(join(src, name), 'utf8');
for (const view of ['browser', 'login']) {
  let html = read(`${view}.html`);
  html = html.replace(/<link rel="stylesheet" href="([\w.-]+)">/g, (_, file) => `<style>\n${read(file)}</style>`);
  html = html.replace(
    /<script src="([\w.-]+)"><\/script>/g,
    (_, file) => `<script>\n${read(file).replace(/<\/script/gi, '<\\/script')}</script>`,
  );
  if (/<(link|script)[^>]+(href|src)=/.test(html)) throw new Error(`ui/${view}.html still references a file`);
  const bytes = Buffer.byteLength(html);
  if (bytes > LIMIT) throw new Error(`dist/ui/${view}.html is ${bytes} bytes, over the ${LIMIT}-byte budget`);
  writeFileSync(join(out, `${view}.html`), html);
}
