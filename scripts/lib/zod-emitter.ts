/**
 * Turns the JSON Schema subset the Kernel spec uses for request parameters and bodies into zod 4 source code.
 *
 * Rules (see docs/ARCHITECTURE.md, "The operation table"):
 * - `$ref`s are inlined; `allOf` parts are merged into one object; a top-level `oneOf` of `required` alternatives
 *   becomes one object with every alternative's fields plus a refinement that exactly one alternative is given
 *   (strict MCP clients reject a top-level `oneOf`).
 * - A binary field `x` (format: binary) becomes `x` (base64 content) plus `x_path` (a local file path, stdio only);
 *   when `x` is required, exactly one of the two is.
 * - The top-level object is strict (an unknown argument is an error that names it); nested objects keep the spec's
 *   `additionalProperties`.
 * - Descriptions are shortened to their first sentences; examples are dropped; defaults are kept as metadata (the
 *   API applies them; the tool does not send them), except empty ones (`false`, `0`, `[]`, ...) that omitting means.
 */

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  deprecated?: boolean;
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  [key: string]: unknown;
}

export interface SchemaContext {
  resolveRef(ref: string): JsonSchema;
}

export interface EmitOptions {
  /** The request body's top-level object: strict, and its field names are reported. */
  topLevel?: boolean;
  /** Whether the request body is required (when false, every body field is optional). */
  bodyRequired?: boolean;
  /** The field name, for messages. */
  field?: string;
}

export interface Emitted {
  code: string;
  fields: string[];
  binaryFields: string[];
}

/** Field descriptions keep whole sentences up to this length (the first sentence is kept up to FIRST_SENTENCE_MAX). */
const FIELD_DESCRIPTION_MAX = 90;
const NESTED_DESCRIPTION_MAX = 64;
const DEEP_DESCRIPTION_MAX = 48;
const FIRST_SENTENCE_MAX = 160;

/** Splits prose into sentences: at `.`, `!` or `?` followed by a space and a capital, digit or quote, not after "e.g.". */
export function sentences(text: string | undefined): string[] {
  if (!text) return [];
  const clean = text.replace(/\*\*/g, '').replace(/\s+/g, ' ').trim();
  if (!clean) return [];
  return clean
    .split(/(?<!\b(?:e\.g|i\.e|etc|vs|approx)\.)(?<=[.!?])\s+(?=[A-Z0-9`"'([])/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/** Whole sentences up to `max` characters; the first sentence always, cut at a word past FIRST_SENTENCE_MAX. */
/**
 * Sentences that state a rule an agent must follow to call correctly (how to clear or keep a value, what conflicts,
 * what is required or ignored): kept past the usual length, up to RULE_DESCRIPTION_MAX.
 */
const RULE =
  /\b(cannot|can't|must|requires?|only (used|allowed|applies)|set (it )?to|omit|null|empty|ignored|merged|overwritten|unchanged|instead of|at most|at least|exactly one|either)\b/i;
const RULE_DESCRIPTION_MAX = 220;

/**
 * Whole sentences up to `max` characters (rules up to RULE_DESCRIPTION_MAX when `rules`); the first sentence
 * always, cut at a word past FIRST_SENTENCE_MAX.
 */
function pack(parts: string[], max: number, rules = false): string {
  let out = '';
  for (const s of parts) {
    if (!out) {
      out = s.length > Math.max(max, FIRST_SENTENCE_MAX) ? `${s.slice(0, max - 1).replace(/\s+\S*$/, '')}…` : s;
      continue;
    }
    const limit = rules && RULE.test(s) ? RULE_DESCRIPTION_MAX : max;
    if (out.length + 1 + s.length > limit) continue;
    out += ` ${s}`;
  }
  return out;
}

export function shortDescription(text: string | undefined, max = FIELD_DESCRIPTION_MAX): string {
  return pack(sentences(text), max);
}

/**
 * A field's description, lean: whole sentences up to FIELD_DESCRIPTION_MAX, without the sentences that only restate
 * what the schema already says (its default, bounds, length or pattern), and without a leading "Optional" (the
 * schema's `required` says that).
 */
export function fieldDescription(text: string | undefined, s: JsonSchema = {}, max = FIELD_DESCRIPTION_MAX): string {
  const hasDefault = s.default !== undefined;
  const hasBounds = s.minimum !== undefined || s.maximum !== undefined;
  const hasLength = s.minLength !== undefined || s.maxLength !== undefined || s.pattern !== undefined;
  const kept = sentences(text).filter((x, i) => {
    if (i === 0) return true;
    if (hasDefault && /^(\(?defaults?\b|if (omitted|not (specified|provided)),? (it )?defaults)/i.test(x)) return false;
    if (hasBounds && /^(minimum|maximum|min|max)\b[^.]*\d+\.?$/i.test(x)) return false;
    if (hasLength && /^must be \d+\s*-\s*\d+ characters\b/i.test(x)) return false;
    if (s.minItems !== undefined && /^must contain at least \d+\b/i.test(x)) return false;
    return true;
  });
  if (kept.length > 1 && /^optional[.:]?$/i.test(kept[0]!)) kept.shift();
  const first = kept[0];
  if (first && /^optional[.:,]?\s+\S/i.test(first)) {
    const rest = first.replace(/^optional[.:,]?\s+/i, '');
    kept[0] = rest.charAt(0).toUpperCase() + rest.slice(1);
  }
  return pack(kept, max, true);
}

function deref(schema: JsonSchema, ctx: SchemaContext, depth = 0): JsonSchema {
  if (depth > 20) throw new Error('schema $ref chain too deep');
  if (schema.$ref) {
    const { $ref, ...rest } = schema;
    return deref({ ...ctx.resolveRef($ref), ...rest }, ctx, depth + 1);
  }
  return schema;
}

/** Merge `allOf` parts (and a single-ref `allOf` used to attach a description) into one schema. */
function flatten(schema: JsonSchema, ctx: SchemaContext): JsonSchema {
  let s = deref(schema, ctx);
  if (s.allOf) {
    const { allOf, ...rest } = s;
    let merged: JsonSchema = { ...rest };
    for (const part of allOf) {
      const p = flatten(part, ctx);
      merged = {
        ...p,
        ...merged,
        properties: { ...(p.properties ?? {}), ...(merged.properties ?? {}) },
        required: [...(p.required ?? []), ...(merged.required ?? [])],
        type: merged.type ?? p.type,
        description: merged.description ?? p.description,
      };
      if (!p.properties && !merged.properties) delete merged.properties;
    }
    if (merged.required?.length === 0) delete merged.required;
    s = merged;
  }
  return s;
}

const lit = (v: unknown) => JSON.stringify(v);

/**
 * A default that is what leaving the field out means anyway (`false`, `0`, `""`, `[]`, `{}`): an agent assumes it,
 * so it is not published (the API still applies it; the tool never sends defaults).
 */
export function isEmptyValue(v: unknown): boolean {
  if (v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

function withCommon(code: string, s: JsonSchema, description?: string, max = FIELD_DESCRIPTION_MAX): string {
  let out = code;
  if (s.nullable) out += '.nullable()';
  const meta: Record<string, unknown> = {};
  const d = fieldDescription(description ?? s.description, s, max);
  const deprecated = s.deprecated || s['x-deprecated'];
  const desc = deprecated && d && !/^deprecated/i.test(d) ? `Deprecated. ${d}` : d;
  if (desc) out += `.describe(${lit(desc)})`;
  if (s.default !== undefined && !isEmptyValue(s.default)) meta.default = s.default;
  if (Object.keys(meta).length) out += `.meta(${lit(meta)})`;
  return out;
}

function emitString(s: JsonSchema): string {
  let code: string;
  switch (s.format) {
    case 'uuid':
      code = 'z.guid()';
      break;
    case 'uri':
      code = 'z.url()';
      break;
    case 'email':
      code = 'z.email()';
      break;
    default:
      code = 'z.string()';
  }
  if (s.minLength !== undefined) code += `.min(${s.minLength})`;
  if (s.maxLength !== undefined) code += `.max(${s.maxLength})`;
  if (s.pattern) code += `.regex(new RegExp(${lit(s.pattern)}))`;
  return code;
}

function emitNumber(s: JsonSchema, integer: boolean): string {
  let code = integer ? 'z.int()' : 'z.number()';
  if (s.minimum !== undefined) code += `.min(${s.minimum})`;
  if (s.maximum !== undefined) code += `.max(${s.maximum})`;
  return code;
}

interface ObjectParts {
  entries: string[];
  fields: string[];
  binaryFields: string[];
  refinements: string[];
}

function emitObjectParts(s: JsonSchema, ctx: SchemaContext, allOptional: boolean, depth: number): ObjectParts {
  const required = new Set(allOptional ? [] : (s.required ?? []));
  const parts: ObjectParts = { entries: [], fields: [], binaryFields: [], refinements: [] };
  for (const [key, raw] of Object.entries(s.properties ?? {})) {
    const prop = flatten(raw, ctx);
    parts.fields.push(key);
    if (prop.type === 'string' && prop.format === 'binary') {
      parts.binaryFields.push(key);
      if (depth > 0) nestedBinary.push(`${currentTop}.${key}`);
      const what = (fieldDescription(prop.description, prop) || 'File content').replace(/\.?$/, '.');
      parts.entries.push(`${lit(key)}: z.string().describe(${lit(`${what} Base64-encoded.`)}).optional()`);
      parts.entries.push(
        `${lit(`${key}_path`)}: z.string().min(1).describe(${lit(`Local file to send as ${key} instead (stdio only).`)}).optional()`,
      );
      // A body that is normally text (a file to write) also takes the text itself: `x_text`, sent as UTF-8.
      const alts = [[key], [`${key}_path`]];
      if (prop['x-text']) {
        parts.entries.push(
          `${lit(`${key}_text`)}: z.string().describe(${lit(`Or the ${key} as UTF-8 text.`)}).optional()`,
        );
        alts.push([`${key}_text`]);
      }
      if (required.has(key)) parts.refinements.push(`exactlyOneOf(${lit(alts)})`);
      continue;
    }
    const code = emitSchema(prop, ctx, depth + 1);
    parts.entries.push(`${lit(key)}: ${required.has(key) ? code : `${code}.optional()`}`);
  }
  return parts;
}

/** Binary fields met below the top level, as `parent.field` paths, for the current emitZod call. */
let nestedBinary: string[] = [];
let currentTop = '';

function emitSchema(schema: JsonSchema, ctx: SchemaContext, depth: number): string {
  if (depth > 12) throw new Error('schema nested too deep');
  const s = flatten(schema, ctx);
  // Fields inside nested objects get shorter descriptions: the object itself is described one level up.
  const max = depth >= 3 ? DEEP_DESCRIPTION_MAX : depth === 2 ? NESTED_DESCRIPTION_MAX : FIELD_DESCRIPTION_MAX;
  if (s.oneOf || s.anyOf) {
    const alts = (s.oneOf ?? s.anyOf)!.map((a) => flatten(a, ctx));
    if (alts.every((a) => a.type || a.properties || a.enum)) {
      const code = `z.union([${alts.map((a) => emitSchema(a, ctx, depth + 1)).join(', ')}])`;
      return withCommon(code, s, undefined, max);
    }
  }
  if (s.const !== undefined) return withCommon(`z.literal(${lit(s.const)})`, s, undefined, max);
  if (s.enum) {
    const values = s.enum.filter((v) => v !== null);
    const code = values.every((v) => typeof v === 'string')
      ? `z.enum(${lit(values)})`
      : `z.union([${values.map((v) => `z.literal(${lit(v)})`).join(', ')}])`;
    return withCommon(code, { ...s, nullable: s.nullable || s.enum.includes(null) }, undefined, max);
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  const nullable = Array.isArray(s.type) && s.type.includes('null');
  const base = { ...s, nullable: s.nullable || nullable };
  switch (type) {
    case 'string':
      return withCommon(emitString(s), base, undefined, max);
    case 'integer':
      return withCommon(emitNumber(s, true), base, undefined, max);
    case 'number':
      return withCommon(emitNumber(s, false), base, undefined, max);
    case 'boolean':
      return withCommon('z.boolean()', base, undefined, max);
    case 'array': {
      let code = `z.array(${s.items ? emitSchema(s.items, ctx, depth + 1) : 'z.unknown()'})`;
      if (s.minItems !== undefined) code += `.min(${s.minItems})`;
      if (s.maxItems !== undefined) code += `.max(${s.maxItems})`;
      return withCommon(code, base, undefined, max);
    }
    default: {
      if (type !== 'object' && !s.properties && s.additionalProperties === undefined) {
        return withCommon('z.unknown()', base, undefined, max);
      }
      const ap = s.additionalProperties;
      if (!s.properties) {
        if (ap === false) return withCommon('z.strictObject({})', base, undefined, max);
        const value = ap && typeof ap === 'object' ? emitSchema(ap, ctx, depth + 1) : 'z.unknown()';
        return withCommon(`z.record(z.string(), ${value})`, base, undefined, max);
      }
      const parts = emitObjectParts(s, ctx, false, depth);
      let code = `${ap === false ? 'z.strictObject' : 'z.looseObject'}({ ${parts.entries.join(', ')} })`;
      if (ap && typeof ap === 'object')
        code = `z.object({ ${parts.entries.join(', ')} }).catchall(${emitSchema(ap, ctx, depth + 1)})`;
      for (const r of parts.refinements) code += `.superRefine(${r})`;
      return withCommon(code, base, undefined, max);
    }
  }
}

/** Emit a parameter schema (options.field) or a request body (options.topLevel). */
export function emitZod(schema: JsonSchema, ctx: SchemaContext, options: EmitOptions = {}): Emitted {
  if (!options.topLevel) {
    const s = flatten(schema, ctx);
    if (s.type === 'string' && s.format === 'binary') throw new Error(`binary parameter ${options.field}`);
    return { code: emitSchema(s, ctx, 0), fields: [], binaryFields: [] };
  }
  const s = flatten(schema, ctx);
  const allOptional = !options.bodyRequired;
  // A top-level oneOf of `required` alternatives: merge the alternatives' fields, refine "exactly one".
  const alternatives: string[][] = [];
  let merged = s;
  if (s.oneOf) {
    const { oneOf, ...rest } = s;
    merged = { ...rest, properties: { ...(rest.properties ?? {}) } };
    for (const alt of oneOf.map((a) => flatten(a, ctx))) {
      Object.assign(merged.properties!, alt.properties ?? {});
      alternatives.push(alt.required ?? []);
    }
  }
  if (merged.type && merged.type !== 'object') throw new Error(`top-level body is ${merged.type}, not an object`);
  nestedBinary = [];
  const entries: string[] = [];
  const parts: ObjectParts = { entries, fields: [], binaryFields: [], refinements: [] };
  const required = new Set(allOptional ? [] : (merged.required ?? []));
  for (const key of Object.keys(merged.properties ?? {})) {
    currentTop = key;
    const one = emitObjectParts(
      { properties: { [key]: merged.properties![key]! }, required: required.has(key) ? [key] : [] },
      ctx,
      false,
      0,
    );
    parts.entries.push(...one.entries);
    parts.fields.push(...one.fields);
    parts.binaryFields.push(...one.binaryFields);
    parts.refinements.push(...one.refinements);
  }
  let code = `z.strictObject({ ${parts.entries.join(', ')} })`;
  for (const r of parts.refinements) code += `.superRefine(${r})`;
  if (alternatives.length) {
    const alts = alternatives.map((req) => req.map((f) => (parts.binaryFields.includes(f) ? `${f}|${f}_path` : f)));
    code += `.superRefine(exactlyOneOf(${lit(alts)}))`;
  }
  return { code, fields: parts.fields, binaryFields: [...parts.binaryFields, ...nestedBinary] };
}
