/**
 * Errors that teach, end to end: deliberate mistakes an agent makes, over stdio with the default toolsets (and
 * `--dynamic`) against `--simulate`, with a client of each era. Every error names the field or tool, and the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, ERAS, type McpSession, text } from './helpers/mcp.js';

type Json = Record<string, unknown>;

/** The error an agent sees: an isError result's text, or a protocol error's message. */
async function errorOf(mcp: McpSession, name: string, args: Json): Promise<string> {
  try {
    const r = await mcp.call(name, args);
    expect(r.isError, `${name} ${JSON.stringify(args)} succeeded: ${text(r)}`).toBe(true);
    return text(r);
  } catch (err) {
    return (err as Error).message;
  }
}

const NIL_UUID = '00000000-0000-4000-8000-000000000000';

/** [what, tool, arguments (BROWSER stands for a live browser id), what the error must say]. */
const BROWSER = '<browser>';
const MISTAKES: [string, string, Json, RegExp[]][] = [
  ['a tool name off by a letter', 'browser_create', {}, [/Unknown tool `browser_create`/, /`browsers_create`/]],
  ['a tool named by one word', 'screenshot', { id: BROWSER }, [/`browsers_computer_capture_screenshot`/]],
  [
    'a tool outside the default set',
    'browsers_computer_batch',
    { id: BROWSER },
    [/`browsers_computer_batch` exists but is not enabled/, /--tools browsers_computer_batch/],
  ],
  ['url for start_url', 'browsers_create', { url: 'https://example.com' }, [/`url`: did you mean `start_url`/]],
  ['browser_id for id', 'browsers_delete', { browser_id: BROWSER }, [/`browser_id`: did you mean `id`/]],
  ['a missing id', 'browsers_retrieve', {}, [/id: required/]],
  ['a string for a boolean', 'browsers_create', { headless: 'yes' }, [/headless: .*expected boolean/]],
  ['an id that names nothing', 'browsers_retrieve', { id: 'nope' }, [/404/, /Check `id`: browsers_list/]],
  ['a missing command', 'browsers_process_exec', { id: BROWSER }, [/command: required/]],
  ['a string for a list', 'browsers_process_exec', { id: BROWSER, command: 'ls', args: '-la' }, [/args: .*array/]],
  [
    'a file write without content',
    'browsers_fs_write_file',
    { id: BROWSER, path: '/tmp/a.txt' },
    [/give exactly one of: content; or content_path; or content_text/],
  ],
  [
    'a file write with two contents',
    'browsers_fs_write_file',
    { id: BROWSER, path: '/tmp/a.txt', content: 'YQ==', content_text: 'a' },
    [/give only one of: content; or content_path; or content_text/],
  ],
  ['a relative path', 'browsers_fs_read_file', { id: BROWSER, path: 'tmp/x' }, [/path: .*Absolute file path/]],
  ['a missing coordinate', 'browsers_computer_click_mouse', { id: BROWSER, y: 3 }, [/x: required/]],
  ['a string coordinate', 'browsers_computer_click_mouse', { id: BROWSER, x: '10', y: 3 }, [/x: .*expected number/]],
  ['Playwright without code', 'browsers_playwright_execute', { id: BROWSER }, [/code: required/]],
  ['a cursor that is not one', 'browsers_telemetry_stream', { id: BROWSER, after: 'abc' }, [/after: a cursor is/]],
  ['an unknown until', 'browsers_telemetry_stream', { id: BROWSER, until: 'finish' }, [/until: .*"end"/]],
  [
    'a string for a type list',
    'browsers_telemetry_stream',
    { id: BROWSER, types: 'console_error' },
    [/types: .*array/],
  ],
  [
    'a process id that is not a UUID',
    'browsers_process_stdout_stream',
    { id: BROWSER, process_id: '123' },
    [/process_id: .*UUID a previous answer returned/],
  ],
  [
    'a signal name with its prefix',
    'browsers_process_kill',
    { id: BROWSER, process_id: NIL_UUID, signal: 'SIGKILL' },
    [/signal: .*"KILL"/],
  ],
  [
    'a process that does not exist',
    'browsers_process_status',
    { id: BROWSER, process_id: NIL_UUID },
    [/Check `id`, `process_id`/, /browsers_process_spawn/],
  ],
  [
    'a file that does not exist',
    'browsers_fs_read_file',
    { id: BROWSER, path: '/nope.txt' },
    [/browsers_fs_list_files/],
  ],
  [
    'an image format it does not make',
    'browsers_computer_capture_screenshot',
    { id: BROWSER, format: 'gif' },
    [/format: .*"jpeg"/],
  ],
];

/** Mistakes in dynamic mode: [what, tool, arguments, what the error must say]. */
const DYNAMIC_MISTAKES: [string, string, Json, RegExp[]][] = [
  [
    'an operation name off by a letter',
    'kernel_call_operation',
    { name: 'browser_create', arguments: {} },
    [/did you mean browsers_create/, /kernel_search_operations/],
  ],
  [
    'arguments both inside and beside `arguments`',
    'kernel_call_operation',
    { name: 'browsers_create', arguments: {}, start_url: 'https://example.com' },
    [/`start_url` is not an argument of this tool/, /inside `arguments`/],
  ],
  [
    'arguments as a string that is not JSON',
    'kernel_call_operation',
    { name: 'browsers_create', arguments: 'start_url=https://example.com' },
    [/arguments: .*expected object/, /inside `arguments`/],
  ],
  [
    'url for start_url inside arguments',
    'kernel_call_operation',
    { name: 'browsers_create', arguments: { url: 'https://example.com' } },
    [/`url`: did you mean `start_url`/],
  ],
  ['q for query', 'kernel_search_operations', { q: 'screenshot' }, [/`q`: did you mean `query`/]],
];

describe.each(ERAS)('mistakes (%s client)', (era) => {
  let mcp: McpSession;
  let dyn: McpSession;
  let browser: string;
  beforeAll(async () => {
    [mcp, dyn] = await Promise.all([
      connectStdio(era, { args: ['--simulate'] }),
      connectStdio(era, { args: ['--simulate', '--dynamic'] }),
    ]);
    const created = await mcp.call('browsers_create', {});
    browser = created.structuredContent?.session_id as string;
  });
  afterAll(async () => {
    await Promise.all([mcp?.close(), dyn?.close()]);
  });

  it('has 24 or more direct-tool mistakes and each error names the field or tool and the fix', async () => {
    expect(MISTAKES.length + DYNAMIC_MISTAKES.length).toBeGreaterThanOrEqual(24);
    for (const [what, tool, args, want] of MISTAKES) {
      const filled = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v === BROWSER ? browser : v]));
      const message = await errorOf(mcp, tool, filled);
      for (const re of want) expect(message, what).toMatch(re);
    }
  });

  it('dynamic mode: each error names the field or operation and the fix', async () => {
    for (const [what, tool, args, want] of DYNAMIC_MISTAKES) {
      const message = await errorOf(dyn, tool, args);
      for (const re of want) expect(message, what).toMatch(re);
    }
  });

  it('dynamic mode accepts arguments given at the top level or as a JSON string', async () => {
    for (const args of [
      { name: 'browsers_create', start_url: 'https://example.com' },
      { name: 'browsers_create', arguments: JSON.stringify({ start_url: 'https://example.com' }) },
    ]) {
      const r = await dyn.call('kernel_call_operation', args);
      expect(r.isError, text(r)).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ start_url: 'https://example.com' });
    }
  });
});
