/**
 * The build writes every tool's published JSON Schema ahead of time (scripts/tool-schemas.mjs) so the built server
 * lists tools without building zod schemas. That file must say exactly what the zod schemas say, for every tool;
 * and the built CLI must still validate arguments (the zod schema is built on the first call).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyPoolTools } from '../src/proxy-pool/index.js';
import { jsonSchemaOf } from '../src/tools/define.js';
import { dynamicTools } from '../src/tools/dynamic.js';
import { operationTools } from '../src/tools/operations.js';
import { assertBuilt, connectStdio, ERAS, type McpSession, ROOT } from './helpers/mcp.js';

const every = [...operationTools, ...proxyPoolTools, ...dynamicTools(operationTools)];

describe('prebuilt tool schemas', () => {
  beforeAll(() => assertBuilt());

  it('hold the zod-derived JSON Schema and the description of every tool, and nothing else', () => {
    const file = JSON.parse(readFileSync(join(ROOT, 'dist/src/generated/tool-schemas.json'), 'utf8')) as Record<
      string,
      { description: string; inputSchema: unknown }
    >;
    expect(Object.keys(file).sort()).toEqual(every.map((d) => d.name).sort());
    for (const def of every) {
      expect(file[def.name], def.name).toEqual({ description: def.description, inputSchema: jsonSchemaOf(def) });
    }
  });

  describe.each(ERAS)('the built CLI with a %s client', (era) => {
    let s: McpSession;
    beforeAll(async () => {
      s = await connectStdio(era, {
        env: { KERNEL_API_KEY: 'sk_test_prebuilt', KERNEL_BASE_URL: 'http://127.0.0.1:9' },
      });
    });
    afterAll(() => s?.close());

    it('lists the prebuilt schemas and still rejects bad arguments before any request, naming the field', async () => {
      const tools = await s.listTools();
      const retrieve = tools.find((t) => t.name === 'browsers_retrieve');
      const def = operationTools.find((d) => d.name === 'browsers_retrieve')!;
      expect(retrieve?.inputSchema).toEqual(jsonSchemaOf(def));
      // Nothing listens on port 9: a request sent would fail with a connection error, not a validation error.
      const r = await s.call('browsers_retrieve', { id: 42 });
      expect(r.isError).toBe(true);
      expect(r.content[0]?.text).toMatch(/\bid\b/);
      expect(r.content[0]?.text).not.toMatch(/connect|ECONNREFUSED|network/i);
    });
  });
});
