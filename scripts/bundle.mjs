#!/usr/bin/env node
/**
 * `npm run bundle`: builds kernel-mcp-<version>.mcpb, the MCP bundle Claude Desktop installs, from a staging folder
 * that holds exactly what `npm pack` ships (prepack builds dist/) plus the production dependencies from the lockfile,
 * nothing else. Validates the manifest with `mcpb validate`, packs with `mcpb pack`, prints the size and fails above
 * the size budget. `--readme` also writes the size into the README (between the bundle markers). `--out <dir>` puts
 * the bundle elsewhere than the project folder.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET_BYTES = 5 * 1024 * 1024;
const MB = 1024 * 1024;

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 ? resolve(args[outIndex + 1] ?? '.') : root;
const writeReadme = args.includes('--readme');

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const mcpb = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'mcpb.cmd' : 'mcpb');
const quiet = {
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_update_notifier: 'false',
  npm_config_loglevel: 'warn',
};

function run(command, argv, cwd) {
  execFileSync(command, argv, {
    cwd,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...quiet },
    shell: process.platform === 'win32',
  });
}

const work = mkdtempSync(join(tmpdir(), 'kernel-mcp-bundle-'));
try {
  // 1. What the package ships: npm pack (its prepack builds dist/ from scratch), unpacked.
  run(npm, ['pack', '--pack-destination', work], root);
  const tarball = join(work, `${pkg.name}-${pkg.version}.tgz`);
  run('tar', ['-xzf', tarball, '-C', work], root);
  const staging = join(work, 'package');

  // 2. Its production dependencies only, exactly as locked.
  copyFileSync(join(root, 'package-lock.json'), join(staging, 'package-lock.json'));
  run(npm, ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--prefer-offline'], staging);

  // 3. Leave out what no runtime loads: the dependencies' TypeScript sources and docs (mcpb already drops *.d.ts,
  //    source maps and lockfiles).
  writeFileSync(
    join(staging, '.mcpbignore'),
    ['node_modules/**/*.ts', 'node_modules/**/*.mts', 'node_modules/**/*.cts', 'node_modules/**/*.md', ''].join('\n'),
  );

  // 4. Validate and pack.
  run(mcpb, ['validate', join(staging, 'manifest.json')], root);
  mkdirSync(outDir, { recursive: true });
  const bundle = join(outDir, `${pkg.name}-${pkg.version}.mcpb`);
  rmSync(bundle, { force: true });
  run(mcpb, ['pack', staging, bundle], root);

  const bytes = statSync(bundle).size;
  const size = `${(bytes / MB).toFixed(1)} MB`;
  console.log(`${bundle}: ${size} (${bytes} bytes; budget ${BUDGET_BYTES / MB} MB)`);

  if (writeReadme) {
    const readmePath = join(root, 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const start = '<!-- bundle-size:start -->';
    const end = '<!-- bundle-size:end -->';
    const from = readme.indexOf(start);
    const to = readme.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no ${start} ... ${end} markers`);
    writeFileSync(readmePath, `${readme.slice(0, from + start.length)}${size}${readme.slice(to)}`);
    console.log(`README.md: bundle size ${size}`);
  }

  if (bytes > BUDGET_BYTES) {
    console.error(
      `bundle is ${size}, over the ${BUDGET_BYTES / MB} MB budget: look at what the production dependencies add ` +
        '(native modules ship one platform each)',
    );
    process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
