/**
 * Every published tool definition is lean and accepted by strict clients: no `$ref`, no top-level combinators, an
 * object at the top, every input schema compiled by the SDK's own JSON Schema validator (AjvJsonSchemaValidator) and
 * by Ajv 2020-12 in strict mode; descriptions a sentence or two, field descriptions short.
 */
import { AjvJsonSchemaValidator, addFormats } from '@modelcontextprotocol/server/validators/ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../src/config.js';
import { allTools } from '../src/registry.js';
import { compile, type ToolDefinition } from '../src/tools/define.js';
import { dynamicTools } from '../src/tools/dynamic.js';
import { operationTools } from '../src/tools/operations.js';

const withProxyPool = allTools({ ...makeConfig(), proxyPoolUrl: 'http://127.0.0.1:1' });
const everyTool: ToolDefinition[] = [...withProxyPool, ...dynamicTools(operationTools)];

function strictAjv() {
  const ajv = new Ajv2020({ strict: true, strictTypes: true, strictTuples: false, allErrors: true });
  addFormats(ajv);
  return ajv;
}

/** Every `description` string in a schema, with its path. */
function descriptions(node: unknown, path = ''): [string, string][] {
  if (!node || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap((n, i) => descriptions(n, `${path}[${i}]`));
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === 'description' && typeof v === 'string') out.push([path, v]);
    else out.push(...descriptions(v, path ? `${path}.${k}` : k));
  }
  return out;
}

describe('published input schemas', () => {
  it('cover every operation, the proxy-pool tools and the meta-tools', () => {
    expect(operationTools).toHaveLength(133);
    expect(everyTool.length).toBeGreaterThanOrEqual(133 + 3);
    expect(new Set(everyTool.map((t) => t.name)).size).toBe(everyTool.length);
  });

  const sdk = new AjvJsonSchemaValidator();
  const ajv = strictAjv();

  for (const tool of everyTool) {
    it(`${tool.name}: self-contained, an object at the top, accepted by strict validators`, () => {
      const json = compile(tool).json as Record<string, unknown>;
      const text = JSON.stringify(json);
      expect(text).not.toContain('"$ref"');
      expect(text).not.toContain('"$defs"');
      expect(text).not.toContain('"definitions"');
      expect(json.type).toBe('object');
      for (const k of ['anyOf', 'oneOf', 'allOf', 'not', 'if', '$schema']) expect(json, k).not.toHaveProperty(k);
      expect(typeof json.properties).toBe('object');
      expect(() => sdk.getValidator(json as never)).not.toThrow();
      expect(() => ajv.compile(json)).not.toThrow();
    });
  }

  it('the strict validators can fail: they reject what strict clients reject', () => {
    expect(() => strictAjv().compile({ type: 'object', properties: { a: { type: 'strin' } } })).toThrow();
    expect(() => strictAjv().compile({ type: 'object', properties: { a: { typ: 'string' } } })).toThrow();
  });

  it('the SDK validator accepts valid arguments and rejects invalid ones', () => {
    const click = operationTools.find((t) => t.name === 'browsers_computer_click_mouse')!;
    const validate = sdk.getValidator(compile(click).json as never);
    expect(validate({ id: 'b', x: 1, y: 2 }).valid).toBe(true);
    expect(validate({ id: 'b', x: 'one', y: 2 }).valid).toBe(false);
    // Unknown arguments are not advertised (additionalProperties costs context); the server rejects them.
    expect(compile(click).zod.safeParse({ id: 'b', x: 1, y: 2, extra: true }).success).toBe(false);
  });
});

describe('what the published schemas leave out', () => {
  const byName = new Map(everyTool.map((t) => [t.name, t]));
  const props = (name: string) =>
    (compile(byName.get(name)!).json as { properties: Record<string, Record<string, unknown>> }).properties;

  it('a UUID field says format: uuid without the pattern zod derives from it, and still rejects a non-UUID', async () => {
    const pid = props('browsers_process_status').process_id!;
    expect(pid).toMatchObject({ type: 'string', format: 'uuid' });
    expect(pid).not.toHaveProperty('pattern');
    // Patterns the spec gives (paths, names, cursors) are kept.
    expect(props('browsers_fs_read_file').path).toHaveProperty('pattern');
    const zod = compile(byName.get('browsers_process_status')!).zod;
    expect(zod.safeParse({ id: 'b', process_id: 'not-a-uuid' }).success).toBe(false);
    expect(zod.safeParse({ id: 'b', process_id: '0b8f8a52-2d1c-4b5e-9a0e-3c1d2e4f5a6b' }).success).toBe(true);
  });

  it('no default that omitting means anyway (false, 0, "", [], {}); other defaults stay', () => {
    const empty: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (!node || typeof node !== 'object') return;
      const d = (node as { default?: unknown }).default;
      const none = d === false || d === 0 || d === '' || (typeof d === 'object' && d && !Object.keys(d).length);
      if (!Array.isArray(node) && none) empty.push(path);
      for (const [k, v] of Object.entries(node)) walk(v, `${path}.${k}`);
    };
    for (const t of operationTools) walk(compile(t).json, t.name);
    expect(empty).toEqual([]);
    expect(props('browsers_computer_move_mouse').smooth).toMatchObject({ default: true });
    expect(props('browsers_list').limit).toMatchObject({ default: 20 });
  });

  it("a list's limit and offset keep their bounds and default, not words restating their names", () => {
    for (const t of operationTools.filter((d) => d.name.endsWith('_list'))) {
      const p = (compile(t).json as { properties: Record<string, Record<string, unknown>> }).properties;
      for (const k of ['limit', 'offset']) if (p[k]) expect(p[k], `${t.name}.${k}`).not.toHaveProperty('description');
    }
    expect(props('browsers_list').limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(props('browsers_list').offset).toMatchObject({ type: 'integer', minimum: 0 });
  });
});

/**
 * The generated operation tools and the meta-tools. (The proxy-pool tools, hand-written in src/proxy-pool, are held
 * to the strictness checks above; their wording is that module's.)
 */
const leanChecked = [...operationTools, ...dynamicTools(operationTools)];

describe('lean definitions', () => {
  for (const tool of leanChecked) {
    it(`${tool.name}: a short description and short field descriptions`, () => {
      expect(tool.description.length).toBeGreaterThan(10);
      expect(tool.description.length).toBeLessThanOrEqual(400);
      expect(tool.title.length).toBeGreaterThan(0);
      for (const [path, d] of descriptions(compile(tool).json)) {
        expect(d.length, `${path}: ${d}`).toBeLessThanOrEqual(220);
        expect(d, path).not.toMatch(/\*\*|Deprecated\. Deprecated/);
      }
    });
  }
});
