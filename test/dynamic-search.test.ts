/**
 * Dynamic mode's search and meta-tools edge by edge (each case here once let a mutant of src/tools/dynamic.ts
 * survive): words and plurals, stems and how far they reach, field weights and synonyms, the order of equal hits,
 * what each meta-tool answers at its edges, the code-mode variant, and the call tool's argument repairs.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, type ToolAnnotations, type ToolDefinition } from '../src/tools/define.js';
import {
  CALL_TOOL,
  type CodeView,
  DESCRIBE_TOOL,
  dynamicTools,
  normalizeCallArguments,
  SEARCH_TOOL,
  searchOperations,
  words,
} from '../src/tools/dynamic.js';
import { byName, runOffline, textOf } from './helpers/offline-tools.js';

const WRITES: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
};
const READS: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};
const DELETES: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: true,
};

const answered: { name: string; args: Record<string, unknown> }[] = [];

/** An operation of its own words: the search reads nothing else. */
function op(
  name: string,
  fields: {
    title?: string;
    toolset?: string;
    description?: string;
    deprecated?: boolean;
    annotations?: ToolAnnotations;
  },
  input: () => z.ZodType<Record<string, unknown>> = () =>
    z.strictObject({ id: z.string(), note: z.string().optional() }),
): ToolDefinition {
  return defineTool({
    name,
    title: fields.title ?? 'Zz',
    description: fields.description ?? 'Qq.',
    toolset: fields.toolset ?? 'zz',
    annotations: fields.annotations ?? WRITES,
    ...(fields.deprecated ? { deprecated: true } : {}),
    input,
    handler: async (args) => {
      answered.push({ name, args });
      return { content: [{ type: 'text', text: `ran ${name}` }] };
    },
  });
}

const tool = byName;
const run = runOffline;
const names = (ops: ToolDefinition[], query: string) => searchOperations(ops, query).map((h) => h.def.name);
const scoreOf = (ops: ToolDefinition[], query: string, name: string) =>
  searchOperations(ops, query).find((h) => h.def.name === name)?.score;

const STOP_WORDS = 'a an the of for to in on at by with and or from into is it its my me i how do can this that'.split(
  ' ',
);

describe('words', () => {
  it('drops every filler word, so a query of them alone finds nothing', () => {
    expect(words(STOP_WORDS.join(' '))).toEqual([]);
    const everything = [op('a_b', { title: STOP_WORDS.join(' '), description: STOP_WORDS.join(' ') })];
    expect(searchOperations(everything, STOP_WORDS.join(', '))).toEqual([]);
    for (const w of STOP_WORDS) expect(words(`${w} widget`), w).toEqual(['widget']);
  });

  it('splits on anything but letters and digits, lower-cased', () => {
    expect(words('browsers_fs_read_file')).toEqual(['browser', 'fs', 'read', 'file']);
    expect(words('  Replay--ID:42 x2 ')).toEqual(['replay', 'id', '42', 'x2']);
    expect(words('')).toEqual([]);
  });

  it('makes plurals singular, leaving short words and -ss, -us, -is endings alone', () => {
    const cases: [string, string][] = [
      ['replies', 'reply'],
      ['boxes', 'box'],
      ['batches', 'batch'],
      ['pushes', 'push'],
      ['classes', 'class'],
      ['chests', 'chest'],
      ['issues', 'issue'],
      ['uses', 'use'],
      ['logs', 'log'],
      ['ids', 'ids'],
      ['bus', 'bus'],
      ['ies', 'ies'],
      ['status', 'status'],
      ['analysis', 'analysis'],
      ['address', 'address'],
      ['file', 'file'],
    ];
    for (const [plural, one] of cases) expect(words(plural), plural).toEqual([one]);
  });
});

describe('searchOperations', () => {
  it('matches a stem up to four letters apart either way, from four letters on', () => {
    const ops = [op('things_download', {})];
    for (const q of ['download', 'downloads', 'downl', 'down', 'downloader', 'downloadable']) {
      expect(names(ops, q), q).toEqual(['things_download']);
    }
    for (const q of ['dow', 'ownload', 'downloadxxxxx', 'downloa1']) expect(names(ops, q), q).toEqual([]);
    // A stem counts 0.8 of an exact word (in the name: 3), plus the share of the name the query covers.
    expect(scoreOf(ops, 'download', 'things_download')).toBeCloseTo(3 + 1 / 2);
    expect(scoreOf(ops, 'down', 'things_download')).toBeCloseTo(0.8 * 3 + 1 / 2);
  });

  it('weighs a word in the name 3, the summary 2, the toolset 2 and the description 1', () => {
    const ops = [
      op('gadgets_make', {}),
      op('a_b', { title: 'Gadget maker' }),
      op('c_d', { toolset: 'gadgets' }),
      op('e_f', { description: 'Makes a gadget.' }),
    ];
    expect(scoreOf(ops, 'gadget', 'gadgets_make')).toBeCloseTo(3 + 1 / 2);
    expect(scoreOf(ops, 'gadget', 'a_b')).toBeCloseTo(2);
    expect(scoreOf(ops, 'gadget', 'c_d')).toBeCloseTo(2);
    expect(scoreOf(ops, 'gadget', 'e_f')).toBeCloseTo(1);
    // The best field counts, not the sum of them.
    const everywhere = [op('gadget_x', { title: 'Gadget', toolset: 'gadget', description: 'Gadget.' })];
    expect(scoreOf(everywhere, 'gadget', 'gadget_x')).toBeCloseTo(3 + 1 / 2);
  });

  it('counts synonyms at 0.6, for the word or its singular, and only for own keys', () => {
    const ops = [op('things_execute', {})];
    expect(scoreOf(ops, 'navigate', 'things_execute')).toBeCloseTo(0.6 * 3);
    expect(scoreOf(ops, 'navigates', 'things_execute')).toBeCloseTo(0.6 * 3);
    // A direct match beats its synonym's.
    expect(scoreOf([op('navigate_execute', {})], 'navigate', 'navigate_execute')).toBeCloseTo(3 + 1 / 2);
    for (const q of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) expect(names(ops, q), q).toEqual([]);
  });

  it('reads "log in", "log on", "sign in" and "sign on" as one word', () => {
    const ops = [op('sites_login', {}), op('sites_signin', {}), op('logs_read', {})];
    expect(names(ops, 'log in to the site')[0]).toBe('sites_login');
    expect(names(ops, 'LOG   ON')[0]).toBe('sites_login');
    expect(names(ops, 'Sign On please')[0]).toBe('sites_signin');
    expect(names(ops, 'sign in')[0]).toBe('sites_signin');
    expect(names(ops, 'read logs')[0]).toBe('logs_read');
    expect(names(ops, 'blog in')).not.toContain('sites_login');
  });

  it('ranks by words matched, then score, then current before deprecated, then shorter and alphabetical names', () => {
    // Two weak matches (descriptions) beat one strong one (a name).
    const matched = [op('widgets_alpha', {}), op('z_y', { description: 'Widget beta.' })];
    expect(names(matched, 'widget beta')).toEqual(['z_y', 'widgets_alpha']);
    const hits = searchOperations(matched, 'widget beta');
    expect(hits.map((h) => h.matched)).toEqual([2, 1]);
    // Same words: the higher score first.
    expect(names([op('q_r', { description: 'Widget.' }), op('s_t', { title: 'Widget' })], 'widget')).toEqual([
      's_t',
      'q_r',
    ]);
    // Same score: the current one first, whichever order they come in.
    const old = op('widget_aa', { deprecated: true });
    const current = op('widget_bb', {});
    expect(names([old, current], 'widget')).toEqual(['widget_bb', 'widget_aa']);
    expect(names([current, old], 'widget')).toEqual(['widget_bb', 'widget_aa']);
    // Then the shorter name, then the alphabetical one.
    expect(names([op('widget_ccc', {}), op('widget_dd', {})], 'widget')).toEqual(['widget_dd', 'widget_ccc']);
    expect(names([op('widget_dd', {}), op('widget_cc', {})], 'widget')).toEqual(['widget_cc', 'widget_dd']);
    expect(names([op('widget_cc', {}), op('widget_dd', {})], 'widget')).toEqual(['widget_cc', 'widget_dd']);
  });

  it('prefers the name the query covers best', () => {
    const ops = [op('browser_pools_create', {}), op('browsers_create', {})];
    expect(names(ops, 'create browser')).toEqual(['browsers_create', 'browser_pools_create']);
    expect(scoreOf(ops, 'create browser', 'browsers_create')).toBeCloseTo(3 + 3 + 2 / 2);
    expect(scoreOf(ops, 'create browser', 'browser_pools_create')).toBeCloseTo(3 + 3 + 2 / 3);
  });
});

describe('the meta-tools at their edges', () => {
  const ops = [
    op('gadgets_list', { title: 'List gadgets', toolset: 'gadgets', annotations: READS }),
    op('gadgets_delete', { title: 'Delete a gadget', toolset: 'gadgets', annotations: DELETES }),
    op('gadgets_old', { title: 'Old gadget call', toolset: 'gadgets', deprecated: true }),
    op('widgets_make', { title: 'Make a widget', toolset: 'widgets' }, () => z.strictObject({})),
    ...Array.from({ length: 11 }, (_, i) => op(`parts_p${String(i).padStart(2, '0')}`, { toolset: 'parts' })),
  ];
  const tools = dynamicTools(ops);

  it('search answers hints, starred required arguments, and deprecation', async () => {
    const body = (await run(tool(tools, SEARCH_TOOL), { query: 'gadget' })).structuredContent as {
      total: number;
      results: Record<string, string>[];
      note: string;
    };
    const by = Object.fromEntries(body.results.map((r) => [r.name, r]));
    expect(by.gadgets_list).toMatchObject({ hints: 'read-only', args: 'id*, note', toolset: 'gadgets' });
    expect(by.gadgets_delete).toMatchObject({ hints: 'destructive' });
    expect(by.gadgets_old).toMatchObject({ hints: 'writes, deprecated' });
    expect(body.total).toBe(3);
    expect(body.note).toBe(
      `Call one with ${CALL_TOOL} {name, arguments}; ${DESCRIBE_TOOL} gives its full input schema.`,
    );
    const none = (await run(tool(tools, SEARCH_TOOL), { query: 'make widget' })).structuredContent as {
      results: Record<string, string>[];
    };
    expect(none.results[0]).toMatchObject({ name: 'widgets_make', args: '' });
  });

  it('search answers ten by default and says how many more matched', async () => {
    const body = (await run(tool(tools, SEARCH_TOOL), { query: 'parts' })).structuredContent as {
      total: number;
      results: unknown[];
      note: string;
    };
    expect(body.total).toBe(11);
    expect(body.results).toHaveLength(10);
    expect(body.note).toMatch(/ 1 more matches: raise limit\.$/);
    const all = (await run(tool(tools, SEARCH_TOOL), { query: 'parts', limit: 11 })).structuredContent as {
      results: unknown[];
      note: string;
    };
    expect(all.results).toHaveLength(11);
    expect(all.note).not.toContain('more matches');
  });

  it('search without words lists each toolset once with its count; with no match it names them all', async () => {
    for (const query of [undefined, '', 'the of and']) {
      const r = await run(tool(tools, SEARCH_TOOL), query === undefined ? {} : { query });
      expect(r.structuredContent, String(query)).toEqual({
        toolsets: [
          { toolset: 'gadgets', operations: 3 },
          { toolset: 'widgets', operations: 1 },
          { toolset: 'parts', operations: 11 },
        ],
        note: 'Search with words, or a toolset name to list its operations.',
      });
    }
    const r = await run(tool(tools, SEARCH_TOOL), { query: 'qqqqzzzz' });
    expect(r.structuredContent).toEqual({
      total: 0,
      results: [],
      note: 'No operation matches "qqqqzzzz". Try other words, or a toolset name: gadgets, widgets, parts.',
    });
  });

  it('describe answers the name, title, toolset and deprecation of the operation asked for', async () => {
    const old = (await run(tool(tools, DESCRIBE_TOOL), { name: 'gadgets_old' })).structuredContent as Record<
      string,
      unknown
    >;
    expect(old).toMatchObject({ name: 'gadgets_old', title: 'Old gadget call', toolset: 'gadgets', deprecated: true });
    const current = (await run(tool(tools, DESCRIBE_TOOL), { name: 'gadgets_list' })).structuredContent as Record<
      string,
      unknown
    >;
    expect(current).toMatchObject({ name: 'gadgets_list', title: 'List gadgets' });
    expect(current).not.toHaveProperty('deprecated');
  });

  it('an unknown name without a close one says only how many are enabled', async () => {
    for (const t of [tool(tools, DESCRIBE_TOOL), tool(tools, CALL_TOOL)]) {
      const r = await run(t, { name: 'qqqq_zzzz' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toBe(
        `Unknown operation "qqqq_zzzz". Find operations with ${SEARCH_TOOL}; this server has ${ops.length} enabled.`,
      );
    }
    const close = await run(tool(tools, CALL_TOOL), { name: 'gadget_list' });
    expect(textOf(close)).toContain('(did you mean gadgets_list?)');
  });

  it('call explains an argument error at the top level without a field path', async () => {
    const picky = op('picky_one', {}, () =>
      z.strictObject({ a: z.string().optional(), b: z.string().optional() }).refine((v) => !!(v.a || v.b), {
        message: 'give a or b',
      }),
    );
    const r = await run(tool(dynamicTools([picky]), CALL_TOOL), { name: 'picky_one', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe(
      `Invalid arguments for picky_one: give a or b. Nothing was sent; ${DESCRIBE_TOOL} gives its input schema.`,
    );
    answered.length = 0;
    const ok = await run(tool(dynamicTools([picky]), CALL_TOOL), { name: 'picky_one', arguments: { b: 'x' } });
    expect(textOf(ok)).toBe('ran picky_one');
    expect(answered).toEqual([{ name: 'picky_one', args: { b: 'x' } }]);
  });

  it('names every failing field by its path, joined in order', async () => {
    const nested = op('deep_one', {}, () =>
      z.strictObject({ outer: z.strictObject({ inner: z.array(z.strictObject({ n: z.number() })) }) }),
    );
    const r = await run(tool(dynamicTools([nested]), CALL_TOOL), {
      name: 'deep_one',
      arguments: { outer: { inner: [{ n: 1 }, { n: 'two' }] } },
    });
    expect(textOf(r)).toMatch(/^Invalid arguments for deep_one: outer\.inner\.1\.n: [^;]+\. Nothing was sent/);
  });

  it('call is honest for no operations at all: nothing read-only or idempotent to promise', () => {
    expect(tool(dynamicTools([]), CALL_TOOL).annotations).toEqual({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: true,
    });
    expect(tool(dynamicTools([]), SEARCH_TOOL).annotations).toEqual({
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(tool(dynamicTools(ops.slice(0, 1)), CALL_TOOL).annotations).toEqual({
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    });
  });
});

describe('with code mode', () => {
  const code: CodeView = {
    executeTool: 'kernel_execute',
    call: (def) => `kernel.${def.name.replace('_', '.')}({...})`,
    signature: (def) => `${def.name}(args: {id: string}): Promise<unknown>`,
  };
  const ops = [
    op('gadgets_list', { title: 'List gadgets', annotations: READS }),
    op('gadgets_old', { title: 'Old gadget call', deprecated: true }),
  ];
  const tools = dynamicTools(ops, code);

  it('offers search and describe only, speaking of the code tool', () => {
    expect(tools.map((t) => t.name)).toEqual([SEARCH_TOOL, DESCRIBE_TOOL]);
    expect(tool(tools, SEARCH_TOOL).description).toContain('kernel_execute code (`kernel.browsers.create({...})`)');
    expect(tool(tools, SEARCH_TOOL).description).not.toContain(CALL_TOOL);
    expect(tool(tools, DESCRIBE_TOOL).description).toBe(
      "Get one operation's TypeScript signature (arguments and answer) and hints, to call it in kernel_execute.",
    );
    const plain = dynamicTools(ops);
    expect(tool(plain, SEARCH_TOOL).description).toContain(`runs through ${CALL_TOOL}; start here.`);
    expect(tool(plain, DESCRIBE_TOOL).description).toBe(
      `Get one operation's full input JSON Schema and hints, to build its ${CALL_TOOL} arguments.`,
    );
  });

  it('search answers each hit as a call in code, without argument names', async () => {
    const body = (await run(tool(tools, SEARCH_TOOL), { query: 'gadget' })).structuredContent as {
      results: Record<string, string>[];
      note: string;
    };
    expect(body.results[0]).toEqual({
      name: 'gadgets_list',
      toolset: 'zz',
      description: 'Qq.',
      hints: 'read-only',
      call: 'kernel.gadgets.list({...})',
    });
    expect(body.note).toBe(`Use them in kernel_execute code; ${DESCRIBE_TOOL} gives one's TypeScript signature.`);
  });

  it('describe answers the signature and hints', async () => {
    expect((await run(tool(tools, DESCRIBE_TOOL), { name: 'gadgets_old' })).structuredContent).toEqual({
      name: 'gadgets_old',
      signature: 'gadgets_old(args: {id: string}): Promise<unknown>',
      hints: 'writes, deprecated',
    });
    expect((await run(tool(tools, DESCRIBE_TOOL), { name: 'gadgets_list' })).structuredContent).toEqual({
      name: 'gadgets_list',
      signature: 'gadgets_list(args: {id: string}): Promise<unknown>',
      hints: 'read-only',
    });
    expect((await run(tool(tools, DESCRIBE_TOOL), { name: 'nope_nope' })).isError).toBe(true);
  });
});

describe('normalizeCallArguments', () => {
  it('leaves what is not an object as it is', () => {
    for (const v of [undefined, null, 'x', 3, [{ name: 'a' }]]) expect(normalizeCallArguments(v)).toBe(v);
  });

  it('parses arguments sent as a JSON object string, and only that', () => {
    expect(normalizeCallArguments({ name: 'a', arguments: '{"id":"b1"}' })).toEqual({
      name: 'a',
      arguments: { id: 'b1' },
    });
    for (const s of ['[1,2]', 'null', '"text"', '{not json', '7']) {
      expect(normalizeCallArguments({ name: 'a', arguments: s }), s).toEqual({ name: 'a', arguments: s });
    }
  });

  it('moves arguments given at the top level under `arguments`', () => {
    expect(normalizeCallArguments({ name: 'a', id: 'b1', x: 1 })).toEqual({ name: 'a', arguments: { id: 'b1', x: 1 } });
    expect(normalizeCallArguments({ id: 'b1' })).toEqual({ name: undefined, arguments: { id: 'b1' } });
  });

  it('keeps what is already in place, and adds no keys that were not sent', () => {
    expect(normalizeCallArguments({ name: 'a', arguments: { id: 'b1' }, extra: 1 })).toEqual({
      name: 'a',
      arguments: { id: 'b1' },
      extra: 1,
    });
    expect(normalizeCallArguments({ name: 'a' })).toEqual({ name: 'a' });
    expect(Object.keys(normalizeCallArguments({ name: 'a' }) as object)).toEqual(['name']);
    expect(Object.keys(normalizeCallArguments({ arguments: {} }) as object)).toEqual(['arguments']);
    expect(normalizeCallArguments({})).toEqual({});
  });
});
