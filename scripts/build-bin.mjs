#!/usr/bin/env node
import { readdirSync } from 'node:fs';
/**
 * Runs last in `npm run build`: makes the bin, dist/src/cli.js, one esbuild bundle of src/ with zod and the MCP SDK,
 * split into chunks at the dynamic imports (HTTP, OAuth, skills, code mode stay out of a stdio start).
 *
 *   node scripts/build-bin.mjs [--sourcemap]
 *
 * Why: Node's ESM loader resolves, reads and links every module on its own, and kernel-mcp's start loaded about 170
 * (zod alone is 97). One file per lazy part cuts the cold start to the first tools/list by about a fifth (bench:
 * `npm run bench -- --only cold`). tsc's per-module output stays in dist/src for the build scripts, which import it.
 *
 * Layout kept as tsc has it, so no path in src/ changes:
 * - the entry and every chunk land in dist/src/ itself, and each module's `import.meta.url` is rewritten to the URL
 *   its tsc output has (`new URL('./tools/define.js', import.meta.url)`), so files found relative to a module
 *   (tool schemas, views, skills, the self command) are found as before;
 * - the simulator stays a separate program: `../simulator/index.js` is left to dist/simulator;
 * - zod, the SDK and the SDK's HTTP adapter (@hono/node-server, hono) are bundled, so they are build-time
 *   (dev) dependencies only; other packages stay in node_modules (undici, eventsource-parser, ioredis, oidc-provider,
 *   jose, quickjs, sharp): they load only when used, and bundling them would gain nothing at start.
 * With --sourcemap (npm run coverage) the bundle carries source maps back to src/*.ts.
 */
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const OUT = join(ROOT, 'dist', 'src');
const BUNDLED = /^(zod|@modelcontextprotocol\/(server|node|core)|@hono\/node-server|hono)(\/|$)/;
const CHUNK = /^chunk-[A-Z0-9]+\.js(\.map)?$/;
const sourcemap = process.argv.includes('--sourcemap');

/** Bare imports outside BUNDLED stay imports of node_modules; the simulator stays dist/simulator. */
const layout = {
  name: 'kernel-mcp-layout',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      if (args.path.startsWith('.')) {
        const target = join(dirname(args.importer), args.path);
        if (!args.importer.startsWith(SRC)) return undefined;
        if (!target.startsWith(SRC))
          return { path: relative(OUT, join(ROOT, 'dist', relative(ROOT, target))), external: true };
        return undefined;
      }
      if (BUNDLED.test(args.path)) return undefined;
      return { path: args.path, external: true };
    });
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(SRC)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const asBuilt = `./${relative(SRC, args.path).replace(/\.ts$/, '.js')}`;
      return {
        contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(asBuilt)}, import.meta.url).href`),
        loader: 'ts',
      };
    });
  },
};

// Chunks of an earlier build would otherwise pile up (their names carry a content hash).
await Promise.all(
  readdirSync(OUT)
    .filter((f) => CHUNK.test(f))
    .map((f) => rm(join(OUT, f))),
);

await build({
  entryPoints: [join(SRC, 'cli.ts')],
  outdir: OUT,
  outbase: SRC,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  chunkNames: 'chunk-[hash]',
  sourcemap: sourcemap ? 'linked' : false,
  sourcesContent: false,
  legalComments: 'none',
  // Smaller to read and parse at every start (~20 ms); names stay, so stack traces still read. Not for coverage,
  // whose branch mapping needs the code as written.
  minifyWhitespace: !sourcemap,
  minifySyntax: !sourcemap,
  logLevel: 'warning',
  plugins: [layout],
});
