/**
 * The Kernel OpenAPI spec for the simulator tests: operations by operationId, and an Ajv (JSON Schema 2020-12)
 * validator for every response, with `$ref`s to `#/components/...` resolved against the spec's components.
 *
 * Two adjustments are made to the spec's schemas before compiling, both spec quirks:
 * - `nullable: true` (OpenAPI 3.0 syntax in a 3.1 document) is honoured: null is added to the allowed types.
 * - `Proxy.config` is a `oneOf` whose branches cannot be told apart (four of them accept any object), so no value
 *   could ever match exactly one; it is validated as `anyOf`.
 */
import { readFileSync } from 'node:fs';
import Ajv2020Import from 'ajv/dist/2020.js';
import { parse } from 'yaml';

const Ajv2020 = Ajv2020Import.default;

// biome-ignore lint/suspicious/noExplicitAny: the spec is untyped YAML.
export type Json = any;

export interface SpecOperation {
  operationId: string;
  method: string;
  path: string;
  op: Json;
}

const SPEC_URL = new URL('../../spec/kernel-openapi.yml', import.meta.url);
const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];

let cachedSpec: Json;
export function loadSpec(): Json {
  cachedSpec ??= parse(readFileSync(SPEC_URL, 'utf8'));
  return cachedSpec;
}

export function specOperations(): SpecOperation[] {
  const spec = loadSpec();
  const ops: SpecOperation[] = [];
  for (const [path, item] of Object.entries<Json>(spec.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (op) ops.push({ operationId: op.operationId, method: method.toUpperCase(), path, op });
    }
  }
  return ops;
}

export function operation(operationId: string): SpecOperation {
  const op = specOperations().find((o) => o.operationId === operationId);
  if (!op) throw new Error(`unknown operationId ${operationId}`);
  return op;
}

/** Follows a `$ref` to `#/components/...` (one level or more). */
export function deref(node: Json): Json {
  let n = node;
  while (n && typeof n === 'object' && typeof n.$ref === 'string') {
    const parts = (n.$ref as string).replace(/^#\//, '').split('/');
    n = parts.reduce((acc: Json, key) => acc?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], loadSpec());
  }
  return n;
}

/** The response object declared for a status (resolving component responses). */
export function declaredResponse(operationId: string, status: number): Json | undefined {
  const r = operation(operationId).op.responses?.[String(status)] ?? operation(operationId).op.responses?.default;
  return r ? deref(r) : undefined;
}

const SPEC_ID = 'https://kernel.test/spec';

function rewrite(node: Json): Json {
  if (Array.isArray(node)) return node.map(rewrite);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries<Json>(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) out[k] = `${SPEC_ID}${v}`;
    else out[k] = rewrite(v);
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    } else {
      const { description, ...schema } = out;
      return { ...(description === undefined ? {} : { description }), anyOf: [schema, { type: 'null' }] };
    }
  }
  return out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function createAjv() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('uri', (s: string) => {
    try {
      return new URL(s).protocol.length > 1;
    } catch {
      return false;
    }
  });
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat('email', /^[^@\s]+@[^@\s]+\.[^@\s]+$/);
  for (const f of ['int64', 'binary', 'password']) ajv.addFormat(f, true);
  const components = rewrite(structuredClone(loadSpec().components));
  const config = components.schemas.Proxy.properties.config;
  config.anyOf = config.oneOf;
  delete config.oneOf;
  ajv.addSchema({ $id: SPEC_ID, components });
  return ajv;
}

let ajvInstance: ReturnType<typeof createAjv> | undefined;
const compiled = new Map<string, (data: unknown) => boolean>();

/** Validates `data` against a spec schema node; returns Ajv's error text, or undefined when valid. */
export function validateAgainst(schema: Json, data: unknown, cacheKey: string): string | undefined {
  ajvInstance ??= createAjv();
  const ajv = ajvInstance;
  let validate = compiled.get(cacheKey) as ((d: unknown) => boolean) & { errors?: unknown };
  if (!validate) {
    validate = ajv.compile(rewrite(structuredClone(schema)));
    compiled.set(cacheKey, validate);
  }
  if (validate(data)) return undefined;
  return ajv.errorsText((validate as unknown as { errors: Parameters<typeof ajv.errorsText>[0] }).errors, {
    separator: '\n',
  });
}

/** The schema of a response's media type, or undefined if the response declares no content. */
export function responseSchema(operationId: string, status: number, mediaType: string): Json | undefined {
  const r = declaredResponse(operationId, status);
  return r?.content?.[mediaType]?.schema;
}
