/**
 * `browsers_page_snapshot`: a cheap, text view of the page (its URL, title and Playwright's ARIA snapshot of the page
 * or of one region), cut to a budget. It runs through the Kernel API's own Playwright execution
 * (POST /browsers/{id}/playwright/execute), so it works against the real API unchanged; the selector goes into the
 * code as a JSON string literal, never as code.
 */
import { z } from 'zod';
import { operations } from '../generated/kernel-operations.gen.js';
import { defineTool, type ToolDefinition } from './define.js';
import { buildRequest } from './operations.js';
import { errorResult, textResult } from './results.js';

export const PAGE_SNAPSHOT_TOOL = 'browsers_page_snapshot';
const DEFAULT_MAX_CHARS = 8000;

const execute = operations.find((r) => r.operationId === 'executePlaywrightCode');

/** The Playwright code that reads the page: a region's first match, or the whole body. */
export function snapshotCode(selector: string | undefined): string {
  const target = selector ? `page.locator(${JSON.stringify(selector)}).first()` : "page.locator('body')";
  return `const target = ${target};\nreturn { url: page.url(), title: await page.title(), snapshot: await target.ariaSnapshot() };`;
}

interface Snapshot {
  url?: unknown;
  title?: unknown;
  snapshot?: unknown;
}

export const pageSnapshotTool: ToolDefinition = defineTool({
  name: PAGE_SNAPSHOT_TOOL,
  title: 'Read the page as text',
  description:
    'Read the page cheaply as text: URL, title and an accessibility snapshot (ARIA YAML: headings, text, links, buttons, form fields with their values) of the page or of one region (`selector`), cut to max_chars. Use it before a screenshot to read a page or find what to click or fill.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  toolset: 'playwright',
  input: () =>
    z.strictObject({
      id: z.string().describe('Browser session ID'),
      selector: z
        .string()
        .min(1)
        .describe('CSS or Playwright selector of one region (default: the whole page).')
        .optional(),
      max_chars: z.int().min(200).max(200_000).describe(`Longest snapshot (default ${DEFAULT_MAX_CHARS}).`).optional(),
    }),
  handler: async (args, ctx) => {
    if (!execute)
      return errorResult(new Error('The Playwright execute operation is missing from the operation table.'));
    const selector = args.selector as string | undefined;
    const maxChars = (args.max_chars as number | undefined) ?? DEFAULT_MAX_CHARS;
    const req = await buildRequest(execute, { id: args.id, code: snapshotCode(selector) }, false);
    req.signal = ctx.signal;
    const { data } = await ctx.client.json<{ success?: boolean; result?: Snapshot; error?: string }>(req);
    if (!data?.success) {
      const why = data?.error ?? 'no result';
      const hint = selector
        ? ` Check \`selector\` (${JSON.stringify(selector)}), or omit it for the whole page.`
        : ' Check that the browser has a page open (browsers_create with start_url, or page.goto in browsers_playwright_execute).';
      return errorResult(new Error(`The page snapshot failed: ${why}.${hint}`));
    }
    const r = data.result ?? {};
    const full = typeof r.snapshot === 'string' ? r.snapshot : '';
    const cut = full.length > maxChars;
    const snapshot = cut ? full.slice(0, maxChars) : full;
    const structured: Record<string, unknown> = {
      url: typeof r.url === 'string' ? r.url : '',
      title: typeof r.title === 'string' ? r.title : '',
      snapshot,
    };
    if (cut) {
      structured.note = `Cut at ${maxChars} of ${full.length} characters: pass a \`selector\` for one region, or a larger max_chars.`;
    }
    const text = [
      `URL: ${structured.url}`,
      `Title: ${structured.title}`,
      snapshot,
      ...(cut ? [`[${structured.note}]`] : []),
    ].join('\n');
    return textResult(text, structured);
  },
});
