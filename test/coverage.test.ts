/**
 * Every operationId in the spec maps to exactly one tool, and each tool's published inputSchema is a
 * self-contained object schema whose properties and required list match the spec's parameters and body.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { operations } from '../src/generated/kernel-operations.gen.js';
import { compile } from '../src/tools/define.js';
import { operationTools } from '../src/tools/operations.js';
import { ROOT } from './helpers/mcp.js';

interface Param {
  name: string;
  in: string;
  required?: boolean;
  $ref?: string;
}
type Schema = {
  $ref?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  allOf?: Schema[];
  oneOf?: Schema[];
  type?: string;
  format?: string;
};

const spec = parse(readFileSync(join(ROOT, 'spec/kernel-openapi.yml'), 'utf8'));
const resolve = <T>(ref: string): T =>
  ref
    .split('/')
    .slice(1)
    .reduce((o, k) => o[k], spec) as T;
const deref = (s: Schema): Schema => (s.$ref ? deref(resolve<Schema>(s.$ref)) : s);

/** The spec's own view of an operation's body: property names and required names (allOf merged). */
function bodyFields(s: Schema): { props: string[]; required: string[]; alternatives: string[][] } {
  const d = deref(s);
  const parts = d.allOf ? d.allOf.map(bodyFields) : [];
  const props = [...Object.keys(d.properties ?? {}), ...parts.flatMap((p) => p.props)];
  const required = [...(d.required ?? []), ...parts.flatMap((p) => p.required)];
  const alternatives = (d.oneOf ?? []).map((a) => deref(a).required ?? []);
  for (const alt of d.oneOf ?? []) props.push(...Object.keys(deref(alt).properties ?? {}));
  return { props: [...new Set(props)], required, alternatives };
}

const specOps: { operationId: string; method: string; path: string; op: Record<string, unknown> }[] = [];
for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, Record<string, unknown>>>)) {
  for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
    const op = item[method];
    if (op) specOps.push({ operationId: op.operationId as string, method: method.toUpperCase(), path, op });
  }
}

describe('operation coverage', () => {
  it('has 133 operations in the spec, each mapped to exactly one tool', () => {
    expect(specOps).toHaveLength(133);
    for (const { operationId, method, path } of specOps) {
      const rows = operations.filter((r) => r.operationId === operationId);
      expect(rows, operationId).toHaveLength(1);
      expect(rows[0]!.method).toBe(method);
      expect(rows[0]!.path).toBe(path);
    }
    const names = operationTools.map((t) => t.name);
    expect(new Set(names).size).toBe(133);
    for (const n of names) expect(n).toMatch(/^[a-z0-9_]{1,40}$/);
  });

  it('names tools after the SDK call', () => {
    const byId = new Map(operations.map((r) => [r.operationId, r.name]));
    expect(byId.get('clickMouse')).toBe('browsers_computer_click_mouse');
    expect(byId.get('deleteBrowsersById')).toBe('browsers_delete');
    expect(byId.get('takeScreenshot')).toBe('browsers_computer_capture_screenshot');
    expect(byId.get('getProjects')).toBe('legacy_projects_list');
  });

  for (const { operationId, op } of specOps) {
    it(`publishes the spec's fields for ${operationId}`, () => {
      const row = operations.find((r) => r.operationId === operationId)!;
      const tool = operationTools.find((t) => t.name === row.name)!;
      const schema = compile(tool).json as {
        type: string;
        properties: Record<string, Record<string, unknown>>;
        required?: string[];
        anyOf?: unknown;
        oneOf?: unknown;
      };
      const serialized = JSON.stringify(schema);
      expect(serialized).not.toContain('$ref');
      expect(schema.type).toBe('object');
      expect(schema.anyOf).toBeUndefined();
      expect(schema.oneOf).toBeUndefined();

      const expectedProps = new Set<string>();
      const expectedRequired = new Set<string>();
      const isStream = row.answer.kind === 'stream';
      for (const raw of (op.parameters as Param[] | undefined) ?? []) {
        const p = raw.$ref ? resolve<Param>(raw.$ref) : raw;
        if (p.in === 'header') {
          // Stream tools take a cursor (`after`) instead of the Last-Event-ID header.
          if (!isStream) expectedProps.add(p.name.toLowerCase().replace(/-/g, '_'));
          continue;
        }
        expectedProps.add(p.name);
        if (p.in === 'path' || p.required) expectedRequired.add(p.name);
      }
      if (isStream) {
        for (const extra of ['after', 'until', 'max_events', 'max_seconds', 'linger_ms']) expectedProps.add(extra);
        // The type filters of the streams that have them.
        if (operationId === 'streamBrowserTelemetry') expectedProps.add('types');
        if (operationId === 'processStdoutStream') expectedProps.add('stream');
      }
      // Screenshots are encoded by the server: its format and JPEG quality.
      if (operationId === 'takeScreenshot') for (const extra of ['format', 'quality']) expectedProps.add(extra);
      const body = op.requestBody as { required?: boolean; content: Record<string, { schema: Schema }> } | undefined;
      if (body) {
        const [media, { schema: bodySchema }] = Object.entries(body.content)[0]!;
        if (media === 'application/octet-stream') {
          expectedProps.add('content');
          expectedProps.add('content_path');
          expectedProps.add('content_text');
        } else {
          const { props, required, alternatives } = bodyFields(bodySchema);
          const d = deref(bodySchema);
          for (const p of props) {
            expectedProps.add(p);
            const ps = deref(d.properties?.[p] ?? {});
            const binary = ps.type === 'string' && ps.format === 'binary';
            if (binary) expectedProps.add(`${p}_path`);
            // A required binary field is "this or its _path twin", enforced by a refinement, not `required`.
            if (body.required && required.includes(p) && !binary && alternatives.length === 0) expectedRequired.add(p);
          }
        }
      }
      expect(new Set(Object.keys(schema.properties))).toEqual(expectedProps);
      expect(new Set(schema.required ?? [])).toEqual(expectedRequired);
    });
  }
});
