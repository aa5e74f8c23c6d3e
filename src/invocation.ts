/**
 * How the user can run this same kernel-mcp again from where they are, for error messages and printed configs:
 * `npx kernel-mcp` under npx, `kernel-mcp` when started through a globally installed bin, otherwise `node <path to cli.js>`
 * (relative to the working directory when inside it, as from a clone: `node dist/src/cli.js`).
 */
import { realpathSync } from 'node:fs';
import { basename, isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Invocation {
  argv1?: string | undefined;
  cwd?: string;
}

/** A shell word: quoted when it holds anything but safe characters. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command that runs this kernel-mcp from the user's shell, e.g. `node dist/src/cli.js`. */
export function selfCommand({ argv1 = process.argv[1], cwd = process.cwd() }: Invocation = {}): string {
  if (!argv1) return 'kernel-mcp';
  if (/^kernel-mcp(\.cmd|\.ps1|\.exe)?$/i.test(basename(argv1))) {
    // npx runs the bin from its cache (`_npx/...`) or a project's node_modules/.bin; a global install from PATH.
    return /[\\/](_npx|node_modules[\\/]\.bin)[\\/]/.test(argv1) ? 'npx kernel-mcp' : 'kernel-mcp';
  }
  const rel = relative(cwd, argv1);
  const shown = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : argv1;
  return `node ${shellWord(shown)}`;
}

/** The absolute, symlink-free path of cli.js (beside this module): what a client config should start. */
export function cliPath(): string {
  const path = fileURLToPath(new URL('./cli.js', import.meta.url));
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
