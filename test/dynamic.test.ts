/**
 * Dynamic mode, as logic: search ranking, the three meta-tools' answers, validation before any call, and honest
 * annotations. End to end over stdio against the simulator: test/dynamic-e2e.test.ts.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compile, defineTool, publishedAnnotations } from '../src/tools/define.js';
import { CALL_TOOL, DESCRIBE_TOOL, dynamicTools, SEARCH_TOOL, searchOperations, words } from '../src/tools/dynamic.js';
import { operationTools } from '../src/tools/operations.js';
import { byName, runOffline, textOf } from './helpers/offline-tools.js';

const run = runOffline;

describe('searchOperations', () => {
  const ops = operationTools.filter((t) => !t.deprecated);

  it('finds every operation by its summary, in the first three results', () => {
    for (const t of operationTools) {
      const top = searchOperations(operationTools, t.title)
        .slice(0, 3)
        .map((h) => h.def.name);
      expect(top, `${t.title} -> ${t.name}`).toContain(t.name);
    }
  });

  it('ranks the operation an agent means first for everyday words', () => {
    const first = (q: string) => searchOperations(ops, q)[0]?.def.name;
    expect(first('screenshot')).toBe('browsers_computer_capture_screenshot');
    expect(first('create browser')).toBe('browsers_create');
    expect(first('delete browser')).toBe('browsers_delete');
    expect(first('list browsers')).toBe('browsers_list');
    expect(first('click')).toBe('browsers_computer_click_mouse');
    expect(first('type text')).toBe('browsers_computer_type_text');
    expect(first('navigate to a url')).toBe('browsers_playwright_execute');
    expect(first('run shell command')).toBe('browsers_process_exec');
    expect(first('read file')).toBe('browsers_fs_read_file');
    expect(first('stop recording')).toBe('browsers_replays_stop');
    expect(first('2fa code')).toBe('credentials_totp_code');
    expect(first('kill process')).toBe('browsers_process_kill');
  });

  it('matches plurals and word stems, and ignores stop words', () => {
    expect(words('the Browsers of processes')).toEqual(['browser', 'process']);
    expect(searchOperations(ops, 'replays').length).toBeGreaterThanOrEqual(4);
    expect(searchOperations(ops, 'the of and')).toEqual([]);
    expect(searchOperations(ops, 'qqqqzzzz')).toEqual([]);
  });

  it('puts deprecated operations after current ones that match as well', () => {
    const hits = searchOperations(operationTools, 'list projects').map((h) => h.def.name);
    expect(hits.indexOf('projects_list')).toBeLessThan(hits.indexOf('legacy_projects_list'));
  });
});

describe('the meta-tools', () => {
  const enabled = operationTools.filter((t) => !t.deprecated);
  const tools = dynamicTools(enabled);
  const search = byName(tools, SEARCH_TOOL);
  const describeTool = byName(tools, DESCRIBE_TOOL);
  const call = byName(tools, CALL_TOOL);

  it('are three, with lean schemas', () => {
    expect(tools.map((t) => t.name)).toEqual([SEARCH_TOOL, DESCRIBE_TOOL, CALL_TOOL]);
    for (const t of tools) {
      expect(t.description.length).toBeLessThanOrEqual(300);
      expect(JSON.stringify(compile(t).json).length).toBeLessThan(450);
    }
  });

  it('search answers names, summaries, hints and argument names (required starred)', async () => {
    const res = await run(search, { query: 'click mouse' });
    expect(res.isError).toBeFalsy();
    const body = res.structuredContent as { total: number; results: Record<string, string>[]; note: string };
    const hit = body.results[0]!;
    expect(hit.name).toBe('browsers_computer_click_mouse');
    expect(hit.description).toContain('click');
    expect(hit.toolset).toBe('computer');
    expect(hit.hints).toBe('writes');
    expect(hit.args).toMatch(/^id\*, /);
    expect(hit.args).toContain('x*');
    expect(hit.args).toContain('button');
    expect(body.note).toContain(CALL_TOOL);
    expect(JSON.parse(textOf(res))).toEqual(body);
  });

  it('search honours limit and says how many more matched', async () => {
    const res = await run(search, { query: 'browser', limit: 2 });
    const body = res.structuredContent as { total: number; results: unknown[]; note: string };
    expect(body.results).toHaveLength(2);
    expect(body.total).toBeGreaterThan(2);
    expect(body.note).toContain(`${body.total - 2} more`);
  });

  it('search without words lists the toolsets with their operation counts', async () => {
    const res = await run(search, {});
    const body = res.structuredContent as { toolsets: { toolset: string; operations: number }[] };
    expect(body.toolsets.reduce((n, t) => n + t.operations, 0)).toBe(enabled.length);
    expect(body.toolsets.map((t) => t.toolset)).toContain('browsers');
  });

  it('search with no match says so and lists the toolsets', async () => {
    const res = await run(search, { query: 'qqqqzzzz' });
    expect((res.structuredContent as { total: number }).total).toBe(0);
    expect(textOf(res)).toContain('No operation matches');
    expect(textOf(res)).toContain('browser_filesystem');
  });

  it('describe answers the published input schema and annotations', async () => {
    const def = enabled.find((t) => t.name === 'browsers_computer_click_mouse')!;
    const res = await run(describeTool, { name: def.name });
    const body = res.structuredContent as Record<string, unknown>;
    expect(body.input_schema).toEqual(compile(def).json);
    expect(body.annotations).toEqual(publishedAnnotations(def.annotations));
    expect(body.description).toBe(def.description);
  });

  it('describe and call name the closest operation when the name is unknown', async () => {
    for (const tool of [describeTool, call]) {
      const res = await run(tool, { name: 'browsers_screenshot' });
      expect(res.isError).toBe(true);
      expect(textOf(res)).toContain('Unknown operation "browsers_screenshot"');
      expect(textOf(res)).toContain('did you mean browsers_computer_capture_screenshot');
    }
  });

  it('call does not reach operations outside the enabled set', async () => {
    const onlyReplays = dynamicTools(enabled.filter((t) => t.toolset === 'replays'));
    const res = await run(byName(onlyReplays, CALL_TOOL), { name: 'browsers_create', arguments: {} });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toContain('Unknown operation');
  });
});

describe('kernel_call_operation', () => {
  const calls: Record<string, unknown>[] = [];
  const answer: CallToolResult = { content: [{ type: 'text', text: 'ok' }], structuredContent: { ok: true } };
  const op = defineTool({
    name: 'things_make',
    title: 'Make a thing',
    description: 'Make a thing.',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    toolset: 'things',
    input: () =>
      z.strictObject({
        id: z.string(),
        count: z.int().min(1).max(5).optional(),
        nested: z.strictObject({ size: z.number() }).optional(),
      }),
    handler: async (args) => {
      calls.push(args);
      return answer;
    },
  });
  const call = byName(dynamicTools([op]), CALL_TOOL);

  it('rejects bad arguments naming each field, without calling the operation', async () => {
    calls.length = 0;
    const res = await run(call, { name: 'things_make', arguments: { count: 9, nested: { size: 'big' }, extra: 1 } });
    expect(res.isError).toBe(true);
    const msg = textOf(res);
    expect(msg).toContain('Invalid arguments for things_make');
    expect(msg).toContain('id:');
    expect(msg).toContain('count:');
    expect(msg).toContain('nested.size:');
    expect(msg).toContain('extra');
    expect(msg).toContain('Nothing was sent');
    expect(calls).toHaveLength(0);
  });

  it('runs the operation with the validated arguments and answers its result as is', async () => {
    calls.length = 0;
    const res = await run(call, { name: 'things_make', arguments: { id: 'a', count: 2 } });
    expect(res).toBe(answer);
    expect(calls).toEqual([{ id: 'a', count: 2 }]);
  });

  it('treats missing arguments as {}', async () => {
    const res = await run(call, { name: 'things_make' });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toContain('id:');
  });
});

describe('meta-tool annotations', () => {
  it('search and describe are read-only and local; call is as strong as the operations it reaches', () => {
    const all = dynamicTools(operationTools.filter((t) => !t.deprecated));
    for (const n of [SEARCH_TOOL, DESCRIBE_TOOL]) {
      expect(byName(all, n).annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        openWorldHint: false,
      });
    }
    expect(byName(all, CALL_TOOL).annotations).toEqual({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
      openWorldHint: true,
    });
  });

  it('call is read-only when every reachable operation is', () => {
    const reads = operationTools.filter((t) => t.annotations.readOnlyHint);
    expect(byName(dynamicTools(reads), CALL_TOOL).annotations).toMatchObject({
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
    });
    const writesNoDelete = operationTools.filter((t) => t.toolset === 'computer' && !t.annotations.readOnlyHint);
    expect(byName(dynamicTools(writesNoDelete), CALL_TOOL).annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
    });
  });
});
