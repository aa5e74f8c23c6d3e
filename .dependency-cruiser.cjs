/**
 * Import rules (npm run check:imports; docs/ARCHITECTURE.md explains them). Layers, top to bottom: a module may
 * import its own layer or a lower one, never a higher one. Every file under src/ must sit in a layer. No cycles,
 * type-only imports included. The simulator imports nothing outside simulator/; the product reaches it only from
 * src/cli.ts through simulator/index.ts (the one --simulate entry).
 */
const LAYERS = [
  ['bin', ['^src/cli[.]ts$', '^src/client-config[.]ts$']],
  ['transports', ['^src/stdio[.]ts$', '^src/http/']],
  ['oauth', ['^src/oauth/']],
  ['server', ['^src/server[.]ts$', '^src/registry[.]ts$', '^src/selection[.]ts$']],
  ['toolsets', ['^src/proxy-pool/', '^src/code/']],
  ['tools', ['^src/tools/']],
  ['resources', ['^src/resources/', '^src/skills/', '^src/apps/']],
  ['generated', ['^src/generated/']],
  ['kernel', ['^src/kernel/']],
  ['base', ['^src/config[.]ts$', '^src/invocation[.]ts$', '^src/log[.]ts$', '^src/redact[.]ts$', '^src/version[.]ts$']],
];

const upward = LAYERS.slice(1).map(([name, paths], i) => ({
  name: `no-upward-import-from-${name}`,
  comment: `${name} may import only its own layer and those below it (${LAYERS.slice(i + 2)
    .map(([n]) => n)
    .join(', ')}), never ${LAYERS.slice(0, i + 1)
    .map(([n]) => n)
    .join(', ')}.`,
  severity: 'error',
  from: { path: paths },
  to: { path: LAYERS.slice(0, i + 1).flatMap(([, p]) => p) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'Imports point one way: no module reaches itself again through its imports (type-only ones count).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'every-module-in-a-layer',
      comment:
        'A file under src/ that no layer names: add it to LAYERS in .dependency-cruiser.cjs and ARCHITECTURE.md.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.flatMap(([, p]) => p) },
      to: {},
    },
    {
      name: 'every-import-in-a-layer',
      comment:
        'An import of a file under src/ that no layer names: add it to LAYERS in .dependency-cruiser.cjs and ARCHITECTURE.md.',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: LAYERS.flatMap(([, p]) => p) },
    },
    {
      name: 'simulator-imports-only-itself',
      comment: 'The simulator is a separate program: it never imports the product (or anything outside simulator/).',
      severity: 'error',
      from: { path: '^simulator/' },
      to: { pathNot: ['^simulator/', 'node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'product-reaches-simulator-only-through-cli',
      comment: 'Product code reaches the simulator only from src/cli.ts (--simulate, kernel-mcp simulator).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli[.]ts$' },
      to: { path: '^simulator/' },
    },
    {
      name: 'cli-reaches-simulator-only-through-its-entry',
      comment: 'src/cli.ts imports simulator/index.ts and nothing else of the simulator.',
      severity: 'error',
      from: { path: '^src/cli[.]ts$' },
      to: { path: '^simulator/', pathNot: '^simulator/index[.]ts$' },
    },
    {
      name: 'cli-loads-simulator-on-demand',
      comment: "src/cli.ts reaches the simulator only by loadSimulator()'s dynamic import (no static or type import).",
      severity: 'error',
      from: { path: '^src/cli[.]ts$' },
      to: { path: '^simulator/', dependencyTypesNot: ['dynamic-import'] },
    },
  ],
  options: {
    // swc parses TypeScript (the TS 7 compiler has no JS API for dependency-cruiser to use) and keeps type-only
    // imports, so a cycle through types is still a cycle.
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '[.]d[.]ts$'] },
  },
};
