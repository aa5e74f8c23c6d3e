/**
 * No text an agent or a user reads names a tool that does not exist. Every tool-like name (snake_case, starting like
 * some tool name does) in the tool descriptions and their field descriptions, the resource template descriptions,
 * the server instructions (plain, dynamic and code mode) and the README's tables must be a tool, a toolset or a field (of a
 * tool's input, or of an API answer in the spec); a `prefix_*` pattern must match at least one tool. The texts come from the built server over stdio with every
 * operation enabled, listed by a client of each era.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectStdio, type McpSession, ROOT } from './helpers/mcp.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every `description` string in a JSON value, and every property name (fields are not tools). */
function walk(value: Json, descriptions: string[], fields: Set<string>) {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, descriptions, fields);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'description' && typeof v === 'string') descriptions.push(v);
      if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)) {
        for (const name of Object.keys(v)) fields.add(name);
      }
      walk(v, descriptions, fields);
    }
  }
}

/** The README's table rows. */
function readmeTables(): string[] {
  return readFileSync(join(ROOT, 'README.md'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('|'));
}

interface Texts {
  /** Where each text came from, for the failure message. */
  texts: { where: string; text: string }[];
  tools: Set<string>;
  toolsets: Set<string>;
  fields: Set<string>;
}

async function collect(all: McpSession, dynamic: McpSession, code: McpSession): Promise<Texts> {
  const texts: Texts['texts'] = [];
  const tools = new Set<string>();
  const toolsets = new Set<string>();
  const fields = new Set<string>();
  for (const s of [all, dynamic, code]) {
    for (const tool of await s.listTools()) {
      tools.add(String(tool.name));
      const descriptions: string[] = [];
      walk(tool as Json, descriptions, fields);
      for (const text of descriptions) texts.push({ where: `tool ${tool.name}`, text });
    }
    const { resourceTemplates } = await s.client.listResourceTemplates();
    for (const t of resourceTemplates) {
      texts.push({ where: `resource template ${t.uriTemplate}`, text: `${t.description ?? ''} ${t.title ?? ''}` });
    }
    texts.push({ where: `instructions (${s.era})`, text: s.client.getInstructions() ?? '' });
  }
  // The dynamic search tool names every toolset when asked with no query.
  const listing = await dynamic.call('kernel_search_operations', {});
  for (const m of JSON.stringify(listing.structuredContent ?? listing.content).matchAll(/"toolset":"(\w+)"/g)) {
    toolsets.add(m[1]!);
  }
  for (const row of readmeTables()) texts.push({ where: 'README table', text: row });
  // Fields of API answers (`browser_live_view_url`) are named in descriptions too.
  walk(parse(readFileSync(join(ROOT, 'spec', 'kernel-openapi.yml'), 'utf8')) as Json, [], fields);
  return { texts, tools, toolsets, fields };
}

/**
 * snake_case words (optionally ending in `_*`) that start the way some tool name starts; a word cut short with `…`
 * (a truncated table cell) is not a name.
 */
function toolLikeNames(text: string, heads: Set<string>): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:_\*|\b(?!…))/g)) {
    if (heads.has(m[0].split('_')[0]!)) out.push(m[0]);
  }
  return out;
}

describe('names in descriptions, instructions and README tables', () => {
  let all: McpSession;
  let dynamic: McpSession;
  let code: McpSession;
  let found: Texts;
  beforeAll(async () => {
    all = await connectStdio('modern', { args: ['--simulate', '--toolsets', 'all', '--include-deprecated'] });
    dynamic = await connectStdio('legacy', { args: ['--simulate', '--dynamic', '--include-deprecated'] });
    code = await connectStdio('modern', { args: ['--simulate', '--code-mode'] });
    found = await collect(all, dynamic, code);
  }, 60_000);
  afterAll(async () => {
    await all?.close();
    await dynamic?.close();
    await code?.close();
  });

  it('collects what it checks', () => {
    expect(found.tools.size).toBeGreaterThan(130);
    expect(found.tools).toContain('kernel_call_operation');
    expect(found.toolsets).toContain('browser_filesystem');
    expect(found.texts.some((t) => t.where.startsWith('resource template'))).toBe(true);
    expect(found.texts.filter((t) => t.where === 'README table').length).toBeGreaterThan(100);
  });

  it('every tool named exists', () => {
    const heads = new Set([...found.tools].map((n) => n.split('_')[0]!));
    const known = new Set([...found.tools, ...found.toolsets, ...found.fields]);
    const unknown: string[] = [];
    for (const { where, text } of found.texts) {
      for (const name of toolLikeNames(text, heads)) {
        const ok = name.endsWith('_*')
          ? [...found.tools].some((t) => t.startsWith(name.slice(0, -1)))
          : known.has(name);
        if (!ok) unknown.push(`${name} (in ${where})`);
      }
    }
    expect([...new Set(unknown)]).toEqual([]);
  });

  it('catches a name that is not a tool', () => {
    const heads = new Set([...found.tools].map((n) => n.split('_')[0]!));
    const text = 'see browsers_fs_watch and browsers_computer_*, not browser session or proxy_poo…';
    expect(toolLikeNames(text, heads)).toEqual(['browsers_fs_watch', 'browsers_computer_*']);
    expect(found.tools.has('browsers_fs_watch')).toBe(false);
  });
});
