/**
 * Request validation against the vendored spec with Ajv (JSON Schema 2020-12). The request side of the spec is
 * generated data (generated/requests.gen.ts); a validator is compiled per operation on first use and kept for the
 * life of the process, so the many simulators a test run starts share them. Ajv's errors become one message per
 * problem, each naming the field (`profile.name must match pattern ...`, `x is required`).
 *
 * Spec quirks adjusted before compiling (read as OpenAPI tools and the old transcription read them):
 * - `nullable: true` (OpenAPI 3.0 syntax in a 3.1 document) adds null to the allowed values.
 * - `allOf` parts are merged into one object, closed if any part is closed (`ProcessSpawnRequest` extends the closed
 *   `ProcessExecRequest`); a closed object with `oneOf` branches also accepts the branches' fields
 *   (`AgentAuthSubmitRequest`). Read literally, JSON Schema would reject every valid body of both.
 * - `ProxyCreateRequest.config` is a `oneOf` whose branches cannot be told apart (four accept any object): the body
 *   check takes any object there, and proxies.ts checks it against the schema of the proxy's `type`.
 */
import { createRequire } from 'node:module';
import type { Ajv2020 as Ajv2020Type, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { badRequest, type ErrorDetail } from './errors.js';
import { COMPONENTS, OPERATIONS, type SpecOperation, type SpecSchema } from './generated/requests.gen.js';

const SPEC_ID = 'https://kernel.simulator/spec';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// biome-ignore lint/suspicious/noExplicitAny: schemas are untyped JSON.
type Json = any;

export function isUri(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}

/** An `allOf` as one object: properties and required fields joined, closed if any part is closed. */
function mergeAllOf(node: Json): Json {
  const { allOf, ...rest } = node;
  const merged: Json = {};
  for (const part of [rest, ...(allOf as Json[]).map(resolve)]) {
    for (const [k, v] of Object.entries<Json>(part)) {
      if (k === 'properties') merged.properties = { ...merged.properties, ...v };
      else if (k === 'required') merged.required = [...new Set([...(merged.required ?? []), ...v])];
      else if (k === 'additionalProperties') merged[k] = merged[k] === false ? false : v;
      else merged[k] = v;
    }
  }
  return merged;
}

/** A schema with its `$ref` (to a component) followed and its `allOf` merged. */
function resolve(node: Json): Json {
  let n = node;
  if (typeof n.$ref === 'string') {
    const { $ref, ...siblings } = n;
    n = { ...COMPONENTS.schemas[$ref.replace('#/components/schemas/', '')], ...siblings };
  }
  return Array.isArray(n.allOf) ? mergeAllOf(n) : n;
}

/** `$ref`s point into the components registered under SPEC_ID; the quirks above are read as intended. */
function adjust(input: Json): Json {
  if (Array.isArray(input)) return input.map(adjust);
  if (!input || typeof input !== 'object') return input;
  const node = Array.isArray(input.allOf) ? mergeAllOf(input) : input;
  const out: Json = {};
  for (const [k, v] of Object.entries<Json>(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) out[k] = `${SPEC_ID}${v}`;
    else if (k === 'properties') out[k] = Object.fromEntries(Object.entries<Json>(v).map(([n, s]) => [n, adjust(s)]));
    else out[k] = adjust(v);
  }
  if (out.additionalProperties === false && (out.oneOf || out.anyOf)) {
    delete out.additionalProperties;
    out.unevaluatedProperties = false;
  }
  if (out.nullable !== true) return out;
  delete out.nullable;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

let ajvInstance: Ajv2020Type | undefined;
/**
 * Ajv is loaded on the first validation, not at start-up (its import is ~45 ms of CPU here, the first compile
 * ~35 ms, each further operation ~4 ms). The spec is not re-validated against the meta-schema (it is checked data).
 */
function ajv(): Ajv2020Type {
  if (ajvInstance) return ajvInstance;
  const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020Type };
  const instance = new Ajv2020({ strict: false, allErrors: true, verbose: true, validateSchema: false });
  instance.addFormat('uuid', UUID_RE);
  instance.addFormat('uri', isUri);
  for (const f of ['binary', 'password', 'int64', 'date-time', 'email']) instance.addFormat(f, true);
  const components = adjust(structuredClone(COMPONENTS));
  components.schemas.ProxyCreateRequest.properties.config = { type: 'object' };
  instance.addSchema({ $id: SPEC_ID, components });
  ajvInstance = instance;
  return instance;
}

const compiled = new Map<string, ValidateFunction>();
function validator(key: string, schema: () => SpecSchema): ValidateFunction {
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv().compile(adjust(schema()));
    compiled.set(key, fn);
  }
  return fn;
}

/** The spec's request side of one operation. */
export function operationSpec(operationId: string): SpecOperation {
  const op = OPERATIONS[operationId];
  if (!op) throw new Error(`operation ${operationId} is not in the spec`);
  return op;
}

/** A component schema's enum, e.g. the computer action types. */
export function componentEnum(schema: string, property: string): string[] {
  return (COMPONENTS.schemas[schema] as Json)?.properties?.[property]?.enum ?? [];
}

function joinPath(base: string, key: string): string {
  if (/^\d+$/.test(key)) return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

function fieldOf(base: string, instancePath: string): string {
  let out = base;
  for (const seg of instancePath.split('/').slice(1)) out = joinPath(out, seg.replace(/~1/g, '/').replace(/~0/g, '~'));
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

const FORMAT_WORDS: Record<string, string> = { uuid: 'a UUID', uri: 'an absolute URI' };

function describeError(e: ErrorObject, base: string): string {
  const at = fieldOf(base, e.instancePath);
  const name = at || 'value';
  const p = e.params as Json;
  switch (e.keyword) {
    case 'required':
      return `${joinPath(at, p.missingProperty)} is required`;
    case 'additionalProperties':
      return `${joinPath(at, p.additionalProperty)} is not a recognized field`;
    case 'unevaluatedProperties':
      return `${joinPath(at, p.unevaluatedProperty)} is not a recognized field`;
    case 'type': {
      const types = String(p.type).split(',');
      return `${name} must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
    }
    case 'enum':
      return `${name} must be one of: ${(p.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `${name} must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern':
      return `${name} must match pattern ${p.pattern}`;
    case 'format':
      return `${name} must be ${FORMAT_WORDS[p.format] ?? `a valid ${p.format}`}`;
    case 'minLength':
      return `${name} must be at least ${p.limit} character(s) long`;
    case 'maxLength':
      return `${name} must be at most ${p.limit} character(s) long`;
    case 'minimum':
      return `${name} must be >= ${p.limit}`;
    case 'maximum':
      return `${name} must be <= ${p.limit}`;
    case 'minItems':
      return `${name} must contain at least ${p.limit} item(s)`;
    case 'maxItems':
      return `${name} must contain at most ${p.limit} item(s)`;
    case 'oneOf': {
      const branches = e.schema as Json[];
      if (branches.every((b) => Array.isArray(b.required))) {
        const options = branches.map((b) => (b.required as string[]).join(' + ')).join(', ');
        return `${at || 'body'} must provide exactly one of: ${options}`;
      }
      return `${name} must match exactly one of its ${branches.length} allowed forms`;
    }
    default:
      return `${name} ${e.message ?? `fails ${e.keyword}`}`;
  }
}

/**
 * One message per problem. A `oneOf` is reported as one message, plus whatever its branches found wrong below the
 * object itself (a wrong type of a branch's field); a branch's missing fields are the oneOf message. The null
 * branch of a nullable field and the `anyOf` wrapping it say nothing a reader needs.
 */
function messages(errors: readonly ErrorObject[], base: string): string[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  const out: string[] = [];
  for (const e of errors) {
    if (e.keyword === 'anyOf' || (e.keyword === 'type' && String((e.params as Json).type) === 'null')) continue;
    const inOneOf = oneOfs.some(
      (o) => o !== e && o.instancePath === e.instancePath && e.schemaPath.startsWith(`${o.schemaPath}/`),
    );
    if (inOneOf && e.keyword === 'required') continue;
    const message = describeError(e, base);
    if (!out.includes(message)) out.push(message);
  }
  return out;
}

function check(fn: ValidateFunction, value: unknown, what: string, base: string): void {
  if (fn(value)) return;
  const issues = messages(fn.errors ?? [], base);
  const details: ErrorDetail[] = issues.map((message) => ({ code: 'invalid_input', message }));
  throw badRequest(`invalid ${what}: ${issues.join('; ')}`, details);
}

/** Throws a 400 naming every invalid field of an operation's JSON request body. */
export function assertValidBody(operationId: string, body: unknown): void {
  const fn = validator(`body:${operationId}`, () => operationSpec(operationId).body?.schema ?? {});
  check(fn, body, 'request body', '');
}

/** Throws a 400 naming every invalid field of `value`, checked against a component schema of the spec. */
export function assertValidComponent(schema: string, value: unknown, field: string): void {
  if (!COMPONENTS.schemas[schema]) throw new Error(`schema ${schema} is not in the request spec`);
  const fn = validator(`component:${schema}`, () => ({ $ref: `#/components/schemas/${schema}` }));
  check(fn, value, 'request body', field);
}

/** A query or path parameter string as the type its schema declares, or a 400. */
function coerce(name: string, schema: Json, raw: string): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer') {
    if (!/^-?\d+$/.test(raw.trim())) throw badRequest(`invalid query parameter: ${name} must be an integer`);
    return Number.parseInt(raw, 10);
  }
  if (type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw badRequest(`invalid query parameter: ${name} must be a number`);
    return n;
  }
  if (type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw badRequest(`invalid query parameter: ${name} must be true or false`);
    return raw === 'true';
  }
  return raw;
}

/**
 * Checks an operation's path parameters and reads its query parameters: present ones coerced to their declared
 * types and validated, missing required ones a 400. Undeclared query parameters are ignored.
 */
export function readParameters(
  operationId: string,
  pathParams: Record<string, string>,
  search: URLSearchParams,
): Record<string, unknown> {
  const op = operationSpec(operationId);
  const values: Record<string, unknown> = {};
  for (const p of op.parameters) {
    if (p.in === 'path') {
      values[p.name] = pathParams[p.name] ?? '';
      continue;
    }
    const raw = search.get(p.name);
    if (raw === null) {
      if (p.required) throw badRequest(`missing required query parameter: ${p.name}`);
      continue;
    }
    values[p.name] = coerce(p.name, p.schema, raw);
  }
  const fn = validator(`params:${operationId}`, () => ({
    type: 'object',
    properties: Object.fromEntries(op.parameters.map((p) => [p.name, p.schema])),
  }));
  check(fn, values, 'parameter', '');
  const query: Record<string, unknown> = {};
  for (const p of op.parameters) if (p.in === 'query' && p.name in values) query[p.name] = values[p.name];
  return query;
}
