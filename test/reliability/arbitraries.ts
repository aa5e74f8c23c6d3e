/**
 * fast-check arbitraries for tool arguments, built from a tool's published JSON Schema (its `inputSchema`):
 * - `validArgs(schema)`: values the schema accepts (bounded sizes), so a call passes validation and reaches the API;
 * - `nearValidArgs(schema)`: a valid value with one mutation (a required field dropped, a wrong type, an unknown
 *   key, a number out of range, a string off its pattern, enum or length bounds);
 * - `randomArgs`: any JSON object.
 * Whether a generated value is really valid is decided by an oracle (ajv on the same schema, and the tool's zod
 * schema), never assumed from the generator.
 */
import fc from 'fast-check';

export type Schema = Record<string, unknown>;
type Json = unknown;

const MAX_DEPTH = 4;

function types(s: Schema): string[] {
  const t = s.type;
  if (Array.isArray(t)) return t as string[];
  if (typeof t === 'string') return [t];
  if (s.properties) return ['object'];
  if (s.items) return ['array'];
  return [];
}

function num(s: Schema, key: string): number | undefined {
  const v = s[key];
  return typeof v === 'number' ? v : undefined;
}

function stringArb(s: Schema): fc.Arbitrary<string> {
  const minLength = num(s, 'minLength') ?? 0;
  const maxLength = Math.max(minLength, Math.min(num(s, 'maxLength') ?? 24, minLength + 24));
  if (typeof s.pattern === 'string') {
    let re: RegExp;
    try {
      re = new RegExp(s.pattern);
    } catch {
      return fc.string({ minLength, maxLength });
    }
    return fc.stringMatching(re).filter((x) => x.length >= minLength && x.length <= (num(s, 'maxLength') ?? 1e9));
  }
  switch (s.format) {
    case 'uuid':
      return fc.uuid();
    case 'uri':
    case 'url':
      return fc.webUrl();
    case 'date-time':
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString());
    case 'email':
      return fc.emailAddress();
    default:
      return fc.string({ minLength, maxLength });
  }
}

function numberArb(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = num(s, 'minimum') ?? num(s, 'exclusiveMinimum') ?? -1_000_000;
  const max = num(s, 'maximum') ?? num(s, 'exclusiveMaximum') ?? 1_000_000;
  const lo = Math.max(min, -1_000_000);
  const hi = Math.min(max, 1_000_000);
  const exLo = s.exclusiveMinimum !== undefined;
  const exHi = s.exclusiveMaximum !== undefined;
  if (integer) {
    return fc.integer({ min: Math.ceil(exLo ? lo + 1 : lo), max: Math.floor(exHi ? hi - 1 : hi) });
  }
  return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true, minExcluded: exLo, maxExcluded: exHi });
}

/** An arbitrary of values the schema accepts. */
export function validArgs(s: Schema, depth = 0): fc.Arbitrary<Json> {
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as Json[]));
  const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    return fc.oneof(...alternatives.map((a) => validArgs({ ...s, anyOf: undefined, oneOf: undefined, ...a }, depth)));
  }
  const ts = types(s);
  if (ts.length === 0) return depth >= MAX_DEPTH ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(...ts.map((t) => typed(s, t, depth)));
}

function typed(s: Schema, t: string, depth: number): fc.Arbitrary<Json> {
  switch (t) {
    case 'string':
      return stringArb(s);
    case 'integer':
      return numberArb(s, true);
    case 'number':
      return numberArb(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = num(s, 'minItems') ?? 0;
      const maxLength = Math.max(minLength, Math.min(num(s, 'maxItems') ?? 3, minLength + 3));
      const items = (s.items as Schema | undefined) ?? {};
      return fc.array(validArgs(items, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectArb(s, depth);
    default:
      return fc.constant(null);
  }
}

function objectArb(s: Schema, depth: number): fc.Arbitrary<Json> {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set((s.required ?? []) as string[]);
  const model: Record<string, fc.Arbitrary<Json>> = {};
  for (const [k, p] of Object.entries(props)) {
    // Deep optional objects stop at MAX_DEPTH to keep values small.
    if (depth >= MAX_DEPTH && !required.has(k)) continue;
    model[k] = validArgs(p, depth + 1);
  }
  const base = fc.record(model, { requiredKeys: [...required].filter((k) => k in model) });
  const extra = s.additionalProperties;
  if (extra && typeof extra === 'object' && Object.keys(props).length === 0) {
    // A record (`z.record`): keys from propertyNames when given.
    const keys =
      s.propertyNames && typeof s.propertyNames === 'object'
        ? stringArb(s.propertyNames as Schema)
        : fc.string({ minLength: 1, maxLength: 8 });
    return fc.dictionary(keys, validArgs(extra as Schema, depth + 1), { maxKeys: 3 });
  }
  return base;
}

export type Mutation =
  | 'drop-required'
  | 'wrong-type'
  | 'unknown-key'
  | 'out-of-range'
  | 'bad-enum'
  | 'bad-pattern'
  | 'too-long';

const WRONG: Record<string, Json[]> = {
  string: [42, true, null, ['x'], { a: 1 }],
  integer: ['7', 1.5, true, null, [1]],
  number: ['1.5', true, null, {}],
  boolean: ['true', 0, null, []],
  array: ['a,b', 1, { 0: 'a' }, null],
  object: ['{}', 1, [1], null],
};

/** Applies one mutation to a valid top-level argument object, when the schema has somewhere to apply it. */
export function mutate(
  s: Schema,
  value: Record<string, Json>,
  mutation: Mutation,
  pick: number,
): { args: Record<string, Json>; mutation: Mutation | 'none' } {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const keys = Object.keys(props);
  const required = (s.required ?? []) as string[];
  const choose = <T>(xs: readonly T[]): T | undefined => xs[pick % Math.max(1, xs.length)];
  const out = { ...value };
  switch (mutation) {
    case 'drop-required': {
      const k = choose(required);
      if (k === undefined) break;
      delete out[k];
      return { args: out, mutation };
    }
    case 'wrong-type': {
      const k = choose(keys);
      if (k === undefined) break;
      const t = types(props[k] ?? {})[0] ?? 'string';
      const bad = WRONG[t] ?? [Symbol.for('x').toString()];
      out[k] = bad[pick % bad.length];
      return { args: out, mutation };
    }
    case 'unknown-key':
      out[`zz_unknown_${pick % 7}`] = pick % 2 ? 'x' : 1;
      return { args: out, mutation };
    case 'out-of-range': {
      const k = choose(
        keys.filter(
          (x) => num(props[x] ?? {}, 'minimum') !== undefined || num(props[x] ?? {}, 'maximum') !== undefined,
        ),
      );
      if (k === undefined) break;
      const p = props[k] ?? {};
      const max = num(p, 'maximum');
      const min = num(p, 'minimum');
      out[k] =
        max !== undefined && (pick % 2 === 0 || min === undefined) ? max + 1 + (pick % 5) : (min ?? 0) - 1 - (pick % 5);
      return { args: out, mutation };
    }
    case 'bad-enum': {
      const k = choose(keys.filter((x) => Array.isArray(props[x]?.enum)));
      if (k === undefined) break;
      out[k] = `not_a_choice_${pick % 3}`;
      return { args: out, mutation };
    }
    case 'bad-pattern': {
      const k = choose(keys.filter((x) => typeof props[x]?.pattern === 'string'));
      if (k === undefined) break;
      out[k] = ['', ' ', '../../etc/passwd', 'x'.repeat(300), '\u0000', '%zz'][pick % 6];
      return { args: out, mutation };
    }
    case 'too-long': {
      const k = choose(keys.filter((x) => num(props[x] ?? {}, 'maxLength') !== undefined));
      if (k === undefined) break;
      out[k] = 'y'.repeat((num(props[k] ?? {}, 'maxLength') ?? 0) + 1 + (pick % 3));
      return { args: out, mutation };
    }
  }
  return { args: out, mutation: 'none' };
}

export const MUTATIONS: readonly Mutation[] = [
  'drop-required',
  'wrong-type',
  'unknown-key',
  'out-of-range',
  'bad-enum',
  'bad-pattern',
  'too-long',
];

/** Any JSON object as arguments: keys that may or may not be the tool's, values of any JSON type. */
export function randomArgs(knownKeys: readonly string[]): fc.Arbitrary<Record<string, Json>> {
  const key = knownKeys.length
    ? fc.oneof(fc.constantFrom(...knownKeys), fc.string({ maxLength: 10 }))
    : fc.string({ maxLength: 10 });
  return fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
}
