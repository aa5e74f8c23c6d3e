/**
 * A small validator for the subset of JSON Schema the Kernel spec uses in request bodies and parameters.
 * The simulator ships in the product and may only use Node built-ins, so request schemas are declared in
 * TypeScript (see schemas.ts) and a test checks them against spec/kernel-openapi.yml.
 *
 * Schemas are written in a "flattened" form: `allOf` merged, `$ref` inlined, and `oneOf` branches that only
 * list required fields expressed as `oneOfRequired`.
 */
import { badRequest, type ErrorDetail } from './errors.js';

type Scalar = string | number | boolean;

export interface Schema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  /** OpenAPI 3.0 style `nullable: true` (the spec uses it even though it is 3.1). */
  nullable?: boolean;
  enum?: readonly Scalar[];
  const?: Scalar;
  pattern?: string;
  format?: 'uri' | 'uuid';
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: readonly string[];
  additionalProperties?: boolean | Schema;
  /** `oneOf: [{required: [...]}, ...]`: exactly one of the listed field sets must be present. */
  oneOfRequired?: readonly (readonly string[])[];
}

type Opts = Omit<Schema, 'type'>;
export const str = (o: Opts = {}): Schema => ({ type: 'string', ...o });
export const strEnum = (values: readonly string[], o: Opts = {}): Schema => ({ type: 'string', enum: values, ...o });
export const int = (o: Opts = {}): Schema => ({ type: 'integer', ...o });
export const num = (o: Opts = {}): Schema => ({ type: 'number', ...o });
export const bool = (o: Opts = {}): Schema => ({ type: 'boolean', ...o });
export const arr = (items: Schema, o: Opts = {}): Schema => ({ type: 'array', items, ...o });
export const obj = (properties: Record<string, Schema>, o: Opts = {}): Schema => ({ type: 'object', properties, ...o });
export const strMap = (o: Opts = {}): Schema => ({ type: 'object', additionalProperties: str(), ...o });
export const anyObj = (o: Opts = {}): Schema => ({ type: 'object', ...o });

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const patternCache = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'u');
    patternCache.set(pattern, re);
  }
  return re;
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

const describe = (path: string): string => path || 'value';
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function typeMatches(type: NonNullable<Schema['type']>, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
  }
}

const TYPE_WORDS: Record<NonNullable<Schema['type']>, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
};

/** Validates `value` against `schema`; returns one message per problem, each naming the field. */
export function validate(schema: Schema, value: unknown, path = '', issues: string[] = []): string[] {
  const name = describe(path);
  if (value === null) {
    if (!schema.nullable) issues.push(`${name} must not be null`);
    return issues;
  }
  if (schema.type && !typeMatches(schema.type, value)) {
    issues.push(`${name} must be ${TYPE_WORDS[schema.type]}`);
    return issues;
  }
  if (schema.const !== undefined && value !== schema.const)
    issues.push(`${name} must be ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value as Scalar)) {
    issues.push(`${name} must be one of: ${schema.enum.join(', ')}`);
  }
  if (typeof value === 'string') validateString(schema, value, name, issues);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) issues.push(`${name} must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) issues.push(`${name} must be <= ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      issues.push(`${name} must contain at least ${schema.minItems} item(s)`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      issues.push(`${name} must contain at most ${schema.maxItems} item(s)`);
    }
    if (schema.items) {
      const items = schema.items;
      value.forEach((item, i) => {
        validate(items, item, joinPath(path, i), issues);
      });
    }
  }
  if (isPlainObject(value)) validateObject(schema, value, path, issues);
  return issues;
}

function validateString(schema: Schema, value: string, name: string, issues: string[]): void {
  const length = [...value].length;
  if (schema.minLength !== undefined && length < schema.minLength) {
    issues.push(`${name} must be at least ${schema.minLength} character(s) long`);
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    issues.push(`${name} must be at most ${schema.maxLength} character(s) long`);
  }
  if (schema.pattern !== undefined && !regex(schema.pattern).test(value)) {
    issues.push(`${name} must match pattern ${schema.pattern}`);
  }
  if (schema.format === 'uuid' && !UUID_RE.test(value)) issues.push(`${name} must be a UUID`);
  if (schema.format === 'uri' && !isUri(value)) issues.push(`${name} must be an absolute URI`);
}

export function isUri(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}

function validateObject(schema: Schema, value: Record<string, unknown>, path: string, issues: string[]): void {
  const props = schema.properties ?? {};
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) issues.push(`${joinPath(path, key)} is required`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const propSchema = props[key];
    if (propSchema) validate(propSchema, v, joinPath(path, key), issues);
    else if (schema.additionalProperties === false) issues.push(`${joinPath(path, key)} is not a recognized field`);
    else if (typeof schema.additionalProperties === 'object') {
      validate(schema.additionalProperties, v, joinPath(path, key), issues);
    }
  }
  if (schema.oneOfRequired) {
    const satisfied = schema.oneOfRequired.filter((set) => set.every((k) => value[k] !== undefined));
    if (satisfied.length !== 1) {
      const options = schema.oneOfRequired.map((set) => set.join(' + ')).join(', ');
      issues.push(`${path || 'body'} must provide exactly one of: ${options}`);
    }
  }
}

/** Throws a 400 naming every invalid field. */
export function assertValid(schema: Schema, value: unknown, what: string, path = ''): void {
  const issues = validate(schema, value, path);
  if (issues.length === 0) return;
  const details: ErrorDetail[] = issues.map((message) => ({ code: 'invalid_input', message }));
  throw badRequest(`invalid ${what}: ${issues.join('; ')}`, details);
}

/** Parses one query/path parameter string according to its schema; returns the typed value or throws 400. */
export function coerceParam(name: string, schema: Schema, raw: string): unknown {
  let value: unknown = raw;
  if (schema.type === 'integer') {
    if (!/^-?\d+$/.test(raw.trim())) throw badRequest(`invalid query parameter: ${name} must be an integer`);
    value = Number.parseInt(raw, 10);
  } else if (schema.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw badRequest(`invalid query parameter: ${name} must be a number`);
    value = n;
  } else if (schema.type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw badRequest(`invalid query parameter: ${name} must be true or false`);
    value = raw === 'true';
  }
  assertValid({ ...schema, nullable: false }, value, 'parameter', name);
  return value;
}
