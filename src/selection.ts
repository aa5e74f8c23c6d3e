/**
 * Decides which tools a server exposes, from the configuration, once per process:
 *
 * 1. the enabled toolsets: `--toolsets a,b` (`all` = every toolset, `default` = the default set), or else the
 *    default set (every toolset in dynamic mode, whose listing does not grow with the operations it reaches);
 * 2. plus the tools named in `--tools`, minus those named in `--exclude-tools`;
 * 3. deprecated operations only with `--include-deprecated` (or when named in `--tools`);
 * 4. with `--read-only`, only tools whose `readOnlyHint` is true (this wins over `--tools`);
 * 5. with `--dynamic`, the server lists three meta-tools (dynamic.ts) that search, describe and call the operations
 *    enabled by 1-4, instead of one tool per operation.
 *
 * An unknown toolset or tool name is a SelectionError, one line that lists the valid names (the CLI prints it and
 * exits).
 */

import { codeModeTools } from './code/tools.js';
import type { Config } from './config.js';
import { operations } from './generated/kernel-operations.gen.js';
import { allTools, unavailableReason } from './registry.js';
import type { ToolDefinition } from './tools/define.js';
import { dynamicTools } from './tools/dynamic.js';
import { distance } from './tools/suggest.js';

export class SelectionError extends Error {
  override name = 'SelectionError';
}

export interface Selection {
  /** What the server lists: the enabled operations' tools, or the three meta-tools in dynamic mode. */
  tools: readonly ToolDefinition[];
  /** The enabled operations (reachable directly, or through the meta-tools in dynamic mode). */
  enabled: readonly ToolDefinition[];
  dynamic: boolean;
}

/**
 * The default set is for browser automation (create and control browsers, screenshots and input, Playwright, files,
 * processes, replays and profiles), from scripts/policy.ts: its toolsets, less the tools left out to keep its
 * definitions within the context budget (32 KB of `tools/list`). `--tools name` adds one back; naming a toolset in
 * `--toolsets` lists it whole (`--toolsets default,browsers`).
 */
export const DEFAULT_TOOLSETS: readonly string[] = [
  ...new Set(operations.filter((r) => r.inDefaultSet !== undefined).map((r) => r.toolset)),
];
export const DEFAULT_EXCLUDED_TOOLS: readonly string[] = operations
  .filter((r) => r.inDefaultSet === false)
  .map((r) => r.name);

const KEYWORDS = ['all', 'default'];

function toolsetsOf(all: readonly ToolDefinition[]): string[] {
  return [...new Set(all.map((t) => t.toolset))];
}

/** The closest valid name, when it is close enough to be a typo (or contains / is contained in the input). */
export function closest(input: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const v of valid) {
    const d = v.includes(input) || input.includes(v) ? Math.abs(v.length - input.length) * 0.5 : distance(input, v);
    if (d < bestScore) {
      bestScore = d;
      best = v;
    }
  }
  return best !== undefined && bestScore <= Math.max(3, input.length / 3) ? best : undefined;
}

/** The unknown names, each followed by the closest valid one: `computr (did you mean computer?), zzz`. */
function withSuggestions(unknown: string[], valid: readonly string[]): string {
  return unknown
    .map((u) => {
      const c = closest(u, valid);
      return c ? `${u} (did you mean ${c}?)` : u;
    })
    .join(', ');
}

/** Every tool name, grouped by toolset, on one line: the list an unknown-name error shows. */
function toolList(all: readonly ToolDefinition[]): string {
  const groups: string[] = [];
  for (const set of toolsetsOf(all).sort()) {
    const names = all.filter((t) => t.toolset === set).map((t) => t.name);
    groups.push(`${set}: ${names.join(', ')}`);
  }
  return groups.join('; ');
}

function checkTools(config: Config, names: readonly string[], all: readonly ToolDefinition[], option: string) {
  const valid = all.map((t) => t.name);
  const known = new Set(valid);
  const missing = names.filter((n) => !known.has(n));
  // A tool that exists but needs configuration (the proxy-pool service's URL) says what to set.
  const reasons = missing.map((n) => unavailableReason(config, n)).filter((r): r is string => r !== undefined);
  if (reasons.length) throw new SelectionError(`${option}: ${reasons.join(' ')}`);
  if (missing.length === 0) return;
  throw new SelectionError(
    `${option}: unknown tool${missing.length > 1 ? 's' : ''} ${withSuggestions(missing, valid)}. ` +
      `Valid tools, by toolset: ${toolList(all)}.`,
  );
}

function enabledToolsets(config: Config, all: readonly ToolDefinition[]): Set<string> {
  const available = toolsetsOf(all);
  const requested = config.toolsets;
  // Dynamic mode lists three tools however many operations it reaches, so its default is every toolset.
  if (requested === undefined) return new Set(config.dynamic || config.codeMode ? available : DEFAULT_TOOLSETS);
  const valid = [...KEYWORDS, ...available];
  const missing = requested.filter((s) => !valid.includes(s));
  const reasons = missing.map((s) => unavailableReason(config, s)).filter((r): r is string => r !== undefined);
  if (reasons.length) throw new SelectionError(`--toolsets (KERNEL_MCP_TOOLSETS): ${reasons.join(' ')}`);
  if (missing.length) {
    throw new SelectionError(
      `--toolsets (KERNEL_MCP_TOOLSETS): unknown toolset${missing.length > 1 ? 's' : ''} ` +
        `${withSuggestions(missing, valid)}. Valid toolsets: ${valid.join(', ')}.`,
    );
  }
  const sets = new Set<string>();
  for (const s of requested) {
    if (s === 'all') for (const a of available) sets.add(a);
    else if (s === 'default') for (const d of DEFAULT_TOOLSETS) sets.add(d);
    else sets.add(s);
  }
  return sets;
}

/**
 * The default set's exclusions that apply: all of them when the default set was asked for (no --toolsets, or
 * `default` in it), except in toolsets also named explicitly (`--toolsets default,browsers` lists browsers whole).
 */
function defaultExclusions(config: Config, all: readonly ToolDefinition[]): Set<string> {
  const requested = config.toolsets;
  if (requested === undefined ? config.dynamic || config.codeMode : !requested.includes('default')) return new Set();
  const named = new Set(requested ?? []);
  const toolsetOf = new Map(all.map((t) => [t.name, t.toolset]));
  return new Set(DEFAULT_EXCLUDED_TOOLS.filter((n) => !named.has(toolsetOf.get(n) ?? '')));
}

/** The enabled operations, in the order of `all` (the generated table's order, so `tools/list` is deterministic). */
export function enabledTools(config: Config, all: readonly ToolDefinition[]): ToolDefinition[] {
  const added = config.tools ?? [];
  const excluded = config.excludeTools ?? [];
  checkTools(config, added, all, '--tools (KERNEL_MCP_TOOLS)');
  // Excluding a tool this configuration does not offer anyway (a proxy-pool tool without its URL) is no error.
  checkTools(
    config,
    excluded.filter((n) => unavailableReason(config, n) === undefined),
    all,
    '--exclude-tools (KERNEL_MCP_EXCLUDE_TOOLS)',
  );
  const sets = enabledToolsets(config, all);
  const leftOut = defaultExclusions(config, all);
  const named = new Set(added);
  const dropped = new Set(excluded);
  return all.filter((t) => {
    if (dropped.has(t.name)) return false;
    if (config.readOnly && !t.annotations.readOnlyHint) return false;
    if (named.has(t.name)) return true;
    if (t.deprecated && !config.includeDeprecated) return false;
    return sets.has(t.toolset) && !leftOut.has(t.name);
  });
}

const cache = new WeakMap<readonly ToolDefinition[], Map<string, Selection>>();

/** The selection for a configuration; computed once per process for a given configuration and tool list. */
export function selectTools(config: Config, all: readonly ToolDefinition[] = allTools(config)): Selection {
  const key = JSON.stringify([
    config.toolsets ?? null,
    config.tools ?? [],
    config.excludeTools ?? [],
    config.readOnly,
    config.dynamic,
    config.codeMode,
    config.includeDeprecated,
  ]);
  let byKey = cache.get(all);
  const hit = byKey?.get(key);
  if (hit) return hit;
  const enabled = enabledTools(config, all);
  const selection: Selection = {
    tools: config.codeMode ? codeModeTools(enabled) : config.dynamic ? dynamicTools(enabled) : enabled,
    enabled,
    dynamic: config.dynamic,
  };
  if (!byKey) {
    byKey = new Map();
    cache.set(all, byKey);
  }
  byKey.set(key, selection);
  return selection;
}
