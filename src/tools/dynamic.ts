/**
 * Dynamic mode (`--dynamic`): three meta-tools instead of one tool per operation, so an agent's context pays for
 * about 2 KB of definitions however many operations are enabled.
 *
 * - `kernel_search_operations` ranks the enabled operations against the agent's words (name, summary, toolset, with
 *   a few synonyms) and answers each hit's name, summary, hints and argument names: enough to pick one, and often
 *   to call it, without another round trip.
 * - `kernel_describe_operation` answers one operation's full input JSON Schema (the one its own tool publishes)
 *   and annotations.
 * - `kernel_call_operation` validates the arguments with the operation's own zod schema (an error names the field;
 *   nothing is sent) and runs the operation's own handler, so the result is exactly the direct tool's.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { SEARCH_SYNONYMS as SYNONYMS } from '../generated/kernel-operations.gen.js';
import { compile, defineTool, publishedAnnotations, type ToolAnnotations, type ToolDefinition } from './define.js';
import { charsForTokens, errorResult, jsonResult } from './results.js';

export const SEARCH_TOOL = 'kernel_search_operations';
export const DESCRIBE_TOOL = 'kernel_describe_operation';
export const CALL_TOOL = 'kernel_call_operation';

const STOP_WORDS = new Set([
  'a',
  'an',
  'the',
  'of',
  'for',
  'to',
  'in',
  'on',
  'at',
  'by',
  'with',
  'and',
  'or',
  'from',
  'into',
  'is',
  'it',
  'its',
  'my',
  'me',
  'i',
  'how',
  'do',
  'can',
  'this',
  'that',
]);

/** A plural's singular, roughly: browsers -> browser, processes -> process, replies -> reply. */
function singular(w: string): string {
  if (w.length <= 3) return w;
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) return w.slice(0, -1);
  return w;
}

/** Lower-case words of a text, without stop words; `browsers_fs_read_file` -> browsers, fs, read, file. */
function rawWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w && !STOP_WORDS.has(w));
}

/** Lower-case singular words of a text, without stop words; `browsers_fs_read_file` -> browser, fs, read, file. */
export function words(text: string): string[] {
  return rawWords(text).map(singular);
}

/** How well one query word matches one indexed word: 1 exact, 0.8 same stem, 0 otherwise. */
function match(q: string, t: string): number {
  if (q === t) return 1;
  const [short, long] = q.length <= t.length ? [q, t] : [t, q];
  if (short.length >= 4 && long.startsWith(short) && long.length - short.length <= 4) return 0.8;
  return 0;
}

interface Entry {
  def: ToolDefinition;
  /** Weighted fields: name 3, summary (title) 2, toolset 2, description 1. */
  fields: [string[], number][];
}

export interface SearchHit {
  def: ToolDefinition;
  score: number;
  /** How many of the query's words matched something. */
  matched: number;
}

const indexes = new WeakMap<readonly ToolDefinition[], Entry[]>();

/** The words of each operation, built once per list of operations. */
function indexOf(ops: readonly ToolDefinition[]): Entry[] {
  let entries = indexes.get(ops);
  if (!entries) {
    entries = ops.map((def) => ({
      def,
      fields: [
        [words(def.name), 3],
        [words(def.title), 2],
        [words(def.toolset), 2],
        [words(def.description), 1],
      ],
    }));
    indexes.set(ops, entries);
  }
  return entries;
}

/** Ranks operations against a query: most query words matched first, then the weighted score, then shorter names. */
export function searchOperations(ops: readonly ToolDefinition[], query: string): SearchHit[] {
  // Two-word verbs agents write apart: "log in to a site" is about logging in, not about logs.
  const raw = rawWords(query.replace(/\b(log|sign)\s+(in|on)\b/gi, '$1in'));
  if (raw.length === 0) return [];
  const qs = raw.map(singular);
  // Own keys only: a query word like "constructor" is not a synonym.
  const synonymsOf = (w: string) => (Object.hasOwn(SYNONYMS, w) ? SYNONYMS[w] : undefined);
  const synonyms = raw.map((r) => (synonymsOf(r) ?? synonymsOf(singular(r)) ?? []).map(singular));
  const entries = indexOf(ops);
  const best = (q: string, e: Entry) => {
    let top = 0;
    for (const [ws, weight] of e.fields) for (const w of ws) top = Math.max(top, match(q, w) * weight);
    return top;
  };
  const hits: SearchHit[] = [];
  for (const e of entries) {
    let score = 0;
    let matched = 0;
    for (const [i, q] of qs.entries()) {
      let s = best(q, e);
      for (const syn of synonyms[i]!) s = Math.max(s, best(syn, e) * 0.6);
      if (s > 0) matched++;
      score += s;
    }
    // Prefer the operation whose name the query covers best: "create browser" is browsers_create before
    // browser_pools_create.
    const nameWords = e.fields[0]![0];
    const covered = nameWords.filter((w) => qs.some((q) => match(q, w) > 0)).length;
    score += covered / Math.max(1, nameWords.length);
    if (matched > 0) hits.push({ def: e.def, score, matched });
  }
  hits.sort(
    (a, b) =>
      b.matched - a.matched ||
      b.score - a.score ||
      Number(a.def.deprecated ?? false) - Number(b.def.deprecated ?? false) ||
      a.def.name.length - b.def.name.length ||
      a.def.name.localeCompare(b.def.name),
  );
  return hits;
}

/** `id*, x*, y*, button`: argument names, required ones starred. */
function argumentSummary(def: ToolDefinition): string {
  const json = compile(def).json as { properties?: Record<string, unknown>; required?: string[] };
  const required = new Set(json.required ?? []);
  return Object.keys(json.properties ?? {})
    .map((k) => (required.has(k) ? `${k}*` : k))
    .join(', ');
}

function hints(a: ToolAnnotations): string {
  if (a.readOnlyHint) return 'read-only';
  return a.destructiveHint ? 'destructive' : 'writes';
}

function summaryOf(def: ToolDefinition) {
  return {
    name: def.name,
    toolset: def.toolset,
    description: def.description,
    hints: hints(def.annotations) + (def.deprecated ? ', deprecated' : ''),
    args: argumentSummary(def),
  };
}

/** Annotations for the call tool: honest for every operation it can reach. */
function callAnnotations(ops: readonly ToolDefinition[]): ToolAnnotations {
  return {
    readOnlyHint: ops.length > 0 && ops.every((o) => o.annotations.readOnlyHint),
    destructiveHint: ops.some((o) => o.annotations.destructiveHint),
    idempotentHint: ops.length > 0 && ops.every((o) => o.annotations.idempotentHint),
    openWorldHint: true,
  };
}

/** Search and describe read a local index: nothing changes, nothing outside is reached. */
const LOCAL_READ: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

function formatIssues(issues: readonly { message: string; path?: readonly unknown[] }[]): string {
  return issues
    .map((i) => {
      const path = (i.path ?? []).map((p) => String(p && typeof p === 'object' && 'key' in p ? p.key : p)).join('.');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}

/**
 * The call tool's arguments, where a common mistake has one meaning: `arguments` given as a JSON string (parsed), or
 * the operation's arguments given at the top level without `arguments` (moved under it). Anything else is left for
 * validation to explain.
 */
export function normalizeCallArguments(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const { name, arguments: inner, ...rest } = value as Record<string, unknown>;
  let args = inner;
  if (typeof args === 'string') {
    try {
      const parsed: unknown = JSON.parse(args);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) args = parsed;
    } catch {
      // Not JSON: validation says `arguments` must be an object.
    }
  }
  if (args === undefined && Object.keys(rest).length > 0) return { name, arguments: rest };
  return { ...(name !== undefined ? { name } : {}), ...(args !== undefined ? { arguments: args } : {}), ...rest };
}

/** Code mode's view of an operation (src/code/): how it is called in the sandbox, and its TypeScript signature. */
export interface CodeView {
  executeTool: string;
  call(def: ToolDefinition): string;
  signature(def: ToolDefinition): string;
}

/**
 * The three meta-tools over the enabled operations; with `code`, search and describe answer code-mode calls and
 * TypeScript signatures, and there is no call tool (the caller adds its code tool).
 */
export function dynamicTools(enabled: readonly ToolDefinition[], code?: CodeView): ToolDefinition[] {
  const byName = new Map(enabled.map((d) => [d.name, d]));
  const toolsets = [...new Set(enabled.map((d) => d.toolset))];
  const names = enabled.map((d) => d.name);

  const unknown = (name: string): CallToolResult => {
    const hit = searchOperations(enabled, name.replace(/_/g, ' '))[0];
    return errorResult(
      new Error(
        `Unknown operation ${JSON.stringify(name)}${hit ? ` (did you mean ${hit.def.name}?)` : ''}. ` +
          `Find operations with ${SEARCH_TOOL}; this server has ${names.length} enabled.`,
      ),
    );
  };

  const search = defineTool({
    name: SEARCH_TOOL,
    title: 'Search Kernel operations',
    description:
      "Find Kernel cloud-browser API operations by words ('create browser', 'screenshot', 'click', 'upload file', 'replay'). " +
      (code
        ? `Answers each one's call in ${code.executeTool} code (\`kernel.browsers.create({...})\`) and summary; start here.`
        : 'Answers names, summaries and args (* = required). Every Kernel action runs through ' +
          `${CALL_TOOL}; start here.`),
    annotations: LOCAL_READ,
    toolset: 'dynamic',
    input: () =>
      z.strictObject({
        query: z.string().describe('Words to match; a toolset name lists it; omit for the toolsets.').optional(),
        limit: z.int().min(1).max(200).describe('Most results (default 10).').optional(),
      }),
    handler: async (args, ctx) => {
      const { query = '', limit = 10 } = args as { query?: string; limit?: number };
      const maxChars = charsForTokens(ctx.config.maxResultTokens);
      if (!words(query).length) {
        const counts = toolsets.map((t) => ({ toolset: t, operations: enabled.filter((d) => d.toolset === t).length }));
        return jsonResult(
          { toolsets: counts, note: 'Search with words, or a toolset name to list its operations.' },
          maxChars,
        );
      }
      const hits = searchOperations(enabled, query);
      const results = hits.slice(0, limit).map((h) => {
        if (!code) return summaryOf(h.def);
        const { args: _args, ...rest } = summaryOf(h.def);
        return { ...rest, call: code.call(h.def) };
      });
      const note =
        hits.length === 0
          ? `No operation matches ${JSON.stringify(query)}. Try other words, or a toolset name: ${toolsets.join(', ')}.`
          : (code
              ? `Use them in ${code.executeTool} code; ${DESCRIBE_TOOL} gives one's TypeScript signature.`
              : `Call one with ${CALL_TOOL} {name, arguments}; ${DESCRIBE_TOOL} gives its full input schema.`) +
            (hits.length > results.length ? ` ${hits.length - results.length} more matches: raise limit.` : '');
      return jsonResult({ total: hits.length, results, note }, maxChars);
    },
  });

  const describe = defineTool({
    name: DESCRIBE_TOOL,
    title: 'Describe a Kernel operation',
    description: code
      ? `Get one operation's TypeScript signature (arguments and answer) and hints, to call it in ${code.executeTool}.`
      : `Get one operation's full input JSON Schema and hints, to build its ${CALL_TOOL} arguments.`,
    annotations: LOCAL_READ,
    toolset: 'dynamic',
    input: () =>
      z.strictObject({
        name: z.string().describe(`Operation name from ${SEARCH_TOOL}.`),
      }),
    handler: async (args, ctx) => {
      const name = args.name as string;
      const def = byName.get(name);
      if (!def) return unknown(name);
      if (code) {
        return jsonResult(
          {
            name: def.name,
            signature: code.signature(def),
            hints: hints(def.annotations) + (def.deprecated ? ', deprecated' : ''),
          },
          charsForTokens(ctx.config.maxResultTokens),
        );
      }
      return jsonResult(
        {
          name: def.name,
          title: def.title,
          description: def.description,
          toolset: def.toolset,
          ...(def.deprecated ? { deprecated: true } : {}),
          annotations: publishedAnnotations(def.annotations),
          input_schema: compile(def).json,
        },
        charsForTokens(ctx.config.maxResultTokens),
      );
    },
  });

  const call = defineTool({
    name: CALL_TOOL,
    title: 'Call a Kernel operation',
    description:
      'Run a Kernel operation by name with its arguments, checked against its schema; the result is the same as its own tool. ' +
      'Usual flow: browsers_create, then browsers_playwright_execute or browsers_computer_*, then browsers_delete.',
    annotations: callAnnotations(enabled),
    toolset: 'dynamic',
    normalize: normalizeCallArguments,
    unknownArgumentsHint: `Put the operation's own arguments inside \`arguments\`: {"name": "browsers_create", "arguments": {"start_url": "https://example.com"}}.`,
    input: () =>
      z.strictObject({
        name: z.string().describe('Operation name.'),
        arguments: z.looseObject({}).describe('Its arguments (see its args or input schema).').optional(),
      }),
    handler: async (args, ctx) => {
      const name = args.name as string;
      const def = byName.get(name);
      if (!def) return unknown(name);
      // The operation's own validation, with the same teaching messages as its direct tool.
      const parsed = await compile(def).schema['~standard'].validate(args.arguments ?? {});
      if (parsed.issues) {
        return errorResult(
          new Error(
            `Invalid arguments for ${name}: ${formatIssues(parsed.issues)}. Nothing was sent; ` +
              `${DESCRIBE_TOOL} gives its input schema.`,
          ),
        );
      }
      return def.handler(parsed.value, ctx);
    },
  });

  return code ? [search, describe] : [search, describe, call];
}
