/**
 * Checks scripts/policy.ts against the spec: every entry names an operation, field, parameter, toolset or parent
 * that exists, and says something that can hold for it. `npm run generate` fails on any finding.
 */
import type { JsonSchema } from './zod-emitter.js';

export interface PolicyModule {
  TOOLSETS: Record<string, string>;
  DEFAULT_TOOLSETS: readonly string[];
  PARENTS: typeof import('../policy.js').PARENTS;
  OPERATIONS: typeof import('../policy.js').OPERATIONS;
  SEARCH_SYNONYMS: Record<string, string[]>;
  FIELD_DESCRIPTIONS: Record<string, string>;
}

interface Param {
  name: string;
  in: string;
  schema?: JsonSchema;
}
export interface SpecOperation {
  operationId: string;
  tags?: string[];
  parameters?: (Param | { $ref: string })[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema?: JsonSchema }>; $ref?: string }>;
}
export interface Spec {
  paths: Record<string, Record<string, SpecOperation>>;
  components: Record<string, Record<string, unknown>>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function specOperations(spec: Spec): { method: string; path: string; op: SpecOperation }[] {
  const out: { method: string; path: string; op: SpecOperation }[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) out.push({ method: method.toUpperCase(), path, op });
    }
  }
  return out;
}

function resolver(spec: Spec) {
  return <T>(ref: string): T => {
    let node: unknown = spec;
    for (const part of ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown>)[part];
    if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
    return node as T;
  };
}

/** Every field path of a schema (`a`, `a.b`; array items keep their array's path), through refs and compositions. */
function fieldPaths(
  schema: JsonSchema | undefined,
  resolve: <T>(ref: string) => T,
  prefix = '',
  out = new Set<string>(),
) {
  const seen = new Set<string>();
  const walk = (s: JsonSchema | undefined, at: string) => {
    if (!s || typeof s !== 'object') return;
    if (s.$ref) {
      if (seen.has(`${at}|${s.$ref}`)) return;
      seen.add(`${at}|${s.$ref}`);
      return walk(resolve<JsonSchema>(s.$ref), at);
    }
    for (const part of [...(s.allOf ?? []), ...(s.oneOf ?? []), ...(s.anyOf ?? [])]) walk(part, at);
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      const path = at ? `${at}.${k}` : k;
      out.add(path);
      walk(v, path);
    }
    if (s.items) walk(s.items, at);
  };
  walk(schema, prefix);
  return out;
}

function paramsOf(op: SpecOperation, resolve: <T>(ref: string) => T): Param[] {
  return (op.parameters ?? []).map((p) => ('$ref' in p ? resolve<Param>(p.$ref) : p));
}

/** The request's field paths: parameters (header names snake_cased as the tools take them) and body fields. */
export function requestFields(spec: Spec, op: SpecOperation): Set<string> {
  const resolve = resolver(spec);
  const out = new Set<string>();
  for (const p of paramsOf(op, resolve)) out.add(p.name);
  for (const media of Object.values(op.requestBody?.content ?? {})) fieldPaths(media.schema, resolve, '', out);
  return out;
}

/** The fields of one item of a list answer (a JSON array), or undefined when the answer is not a list. */
function listItemFields(spec: Spec, op: SpecOperation): Map<string, JsonSchema> | undefined {
  const resolve = resolver(spec);
  const ok = Object.entries(op.responses).find(([code]) => code.startsWith('2'))?.[1];
  let schema = ok?.content?.['application/json']?.schema;
  if (schema?.$ref) schema = resolve<JsonSchema>(schema.$ref);
  if (schema?.type !== 'array') return undefined;
  const fields = new Map<string, JsonSchema>();
  const walk = (s: JsonSchema | undefined) => {
    if (!s) return;
    if (s.$ref) return walk(resolve<JsonSchema>(s.$ref));
    for (const part of [...(s.allOf ?? []), ...(s.oneOf ?? []), ...(s.anyOf ?? [])]) walk(part);
    for (const [k, v] of Object.entries(s.properties ?? {})) fields.set(k, v.$ref ? resolve<JsonSchema>(v.$ref) : v);
  };
  walk(schema.items);
  return fields;
}

const leaf = (path: string) => path.split('.').pop() ?? path;

/** Every problem with the policy, each naming the entry and what to fix; empty when it holds. */
export function checkPolicy(spec: Spec, policy: PolicyModule): string[] {
  const resolve = resolver(spec);
  const problems: string[] = [];
  const ops = new Map(specOperations(spec).map((o) => [o.op.operationId, o]));
  const where = (id: string, key: string) => `scripts/policy.ts OPERATIONS.${id}.${key}`;
  const toolsets = new Set(Object.values(policy.TOOLSETS));
  const toolsetOf = (op: SpecOperation) => policy.TOOLSETS[op.tags?.[0] ?? ''];

  for (const set of policy.DEFAULT_TOOLSETS) {
    if (!toolsets.has(set)) problems.push(`scripts/policy.ts DEFAULT_TOOLSETS: "${set}" is not a toolset of TOOLSETS`);
  }
  for (const { op } of ops.values()) {
    if (!toolsetOf(op)) problems.push(`${op.operationId}: tag "${op.tags?.[0] ?? ''}" has no toolset in TOOLSETS`);
  }

  // Names that mark a field as secret anywhere: a field so named that an operation does not list is a finding.
  const secretNames = new Set<string>();
  for (const p of Object.values(policy.OPERATIONS)) for (const s of p.secrets ?? []) secretNames.add(leaf(s));

  const resources = new Set<string>();
  for (const [id, p] of Object.entries(policy.OPERATIONS)) {
    const found = ops.get(id);
    if (!found) {
      problems.push(`scripts/policy.ts OPERATIONS.${id}: no operation ${id} in spec/kernel-openapi.yml`);
      continue;
    }
    const { method, op } = found;
    const fields = requestFields(spec, op);
    if (p.name !== undefined && (!/^[a-z0-9_]+$/.test(p.name) || p.name.length > 40)) {
      problems.push(`${where(id, 'name')}: "${p.name}" is not snake_case of at most 40 characters`);
    }
    if (p.readOnly && method !== 'POST') problems.push(`${where(id, 'readOnly')}: only a POST needs it (${method})`);
    if (p.destructive && (method === 'GET' || method === 'DELETE' || p.readOnly)) {
      problems.push(`${where(id, 'destructive')}: a ${method}${p.readOnly ? ' read-only' : ''} operation`);
    }
    if (p.listChanging && (method === 'GET' || p.readOnly)) {
      problems.push(`${where(id, 'listChanging')}: a read-only operation changes nothing`);
    }
    for (const key of ['secrets', 'notSecret'] as const) {
      for (const f of p[key] ?? []) {
        if (!fields.has(f)) {
          problems.push(
            `${where(id, key)}: "${f}" is not a request field of ${id} (fields: ${[...fields].join(', ')})`,
          );
        }
      }
    }
    const toolset = toolsetOf(op);
    if (p.notDefault && !policy.DEFAULT_TOOLSETS.includes(toolset ?? '')) {
      problems.push(`${where(id, 'notDefault')}: its toolset "${toolset}" is not in DEFAULT_TOOLSETS`);
    }
    if (p.stream) problems.push(...checkStream(spec, policy, id, found, resources));
  }

  for (const { op } of ops.values()) {
    const p = policy.OPERATIONS[op.operationId];
    const listed = new Set([...(p?.secrets ?? []), ...(p?.notSecret ?? [])]);
    for (const f of requestFields(spec, op)) {
      if (secretNames.has(leaf(f)) && !listed.has(f)) {
        problems.push(
          `${op.operationId}: request field "${f}" is named like a secret: list it in scripts/policy.ts OPERATIONS.${op.operationId}.secrets (or .notSecret)`,
        );
      }
    }
  }

  problems.push(...checkFieldDescriptions(spec, policy.FIELD_DESCRIPTIONS));

  for (const [kind, parent] of Object.entries(policy.PARENTS)) {
    const at = `scripts/policy.ts PARENTS.${kind}`;
    const found = ops.get(parent.list);
    const items = found && found.method === 'GET' ? listItemFields(spec, found.op) : undefined;
    if (!found || !items) {
      problems.push(`${at}.list: "${parent.list}" is not a GET operation that answers a JSON array`);
      continue;
    }
    if (!items.has(parent.idField)) problems.push(`${at}.idField: listed items have no field "${parent.idField}"`);
    const live = parent.live;
    if (!live) continue;
    let schema: JsonSchema | undefined;
    if ('query' in live) {
      schema = paramsOf(found.op, resolve).find((q) => q.in === 'query' && q.name === live.query)?.schema;
      if (!schema) problems.push(`${at}.live.query: ${parent.list} has no query parameter "${live.query}"`);
    } else {
      schema = items.get(live.field);
      if (!schema) problems.push(`${at}.live.field: listed items have no field "${live.field}"`);
    }
    const allowed = schema?.enum;
    for (const v of live.values) {
      if (allowed && !allowed.includes(v)) {
        problems.push(`${at}.live.values: "${v}" is not one of ${allowed.map(String).join(', ')}`);
      }
    }
  }
  return problems;
}

/** The schema (`components.schemas`) or property a FIELD_DESCRIPTIONS key names, or a problem naming the entry. */
export function describedNode(spec: Spec, key: string): { node: JsonSchema } | { problem: string } {
  const at = `scripts/policy.ts FIELD_DESCRIPTIONS['${key}']`;
  const [schemaName = '', property, ...rest] = key.split('.');
  const schema = (spec.components.schemas as Record<string, JsonSchema> | undefined)?.[schemaName];
  if (!schema || rest.length) return { problem: `${at}: no schema ${schemaName} in components.schemas` };
  if (property === undefined) return { node: schema };
  const node = schema.properties?.[property];
  if (!node) {
    const names = Object.keys(schema.properties ?? {}).join(', ');
    return { problem: `${at}: ${schemaName} has no property "${property}" (properties: ${names})` };
  }
  return { node };
}

function checkFieldDescriptions(spec: Spec, descriptions: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [key, text] of Object.entries(descriptions)) {
    const found = describedNode(spec, key);
    if ('problem' in found) problems.push(found.problem);
    else if (!text.trim()) problems.push(`scripts/policy.ts FIELD_DESCRIPTIONS['${key}']: empty (delete the entry)`);
  }
  return problems;
}

function checkStream(
  spec: Spec,
  policy: PolicyModule,
  id: string,
  found: { path: string; op: SpecOperation },
  resources: Set<string>,
): string[] {
  const s = policy.OPERATIONS[id]!.stream!;
  const at = `scripts/policy.ts OPERATIONS.${id}.stream`;
  const problems: string[] = [];
  const resolve = resolver(spec);
  const params = paramsOf(found.op, resolve);
  const isStream = Object.entries(found.op.responses).some(
    ([code, r]) => code.startsWith('2') && r.content?.['text/event-stream'],
  );
  if (!isStream) problems.push(`${at}: ${id} does not answer text/event-stream`);
  if (resources.has(s.resource)) problems.push(`${at}.resource: "${s.resource}" is used twice`);
  resources.add(s.resource);
  const m = /^kernel:\/\/([^{?]*(?:\{\w+\}[^{?]*)*)(?:\{\?([\w,]+)\})?$/.exec(s.uri);
  if (!m) {
    problems.push(`${at}.uri: "${s.uri}" is not kernel://path{?query} with {variables}`);
    return problems;
  }
  const vars = [...(m[1] ?? '').matchAll(/\{(\w+)\}/g)].map((v) => v[1]!);
  const pathParams = params.filter((p) => p.in === 'path').map((p) => p.name);
  if (vars.sort().join() !== [...pathParams].sort().join()) {
    problems.push(`${at}.uri: variables {${vars.join('}, {')}} are not the path parameters of ${found.path}`);
  }
  const queryParams = params.filter((p) => p.in === 'query').map((p) => p.name);
  for (const q of m[2]?.split(',') ?? []) {
    if (!queryParams.includes(q)) problems.push(`${at}.uri: "${q}" is not a query parameter of ${id}`);
  }
  if (!policy.PARENTS[s.parent]) problems.push(`${at}.parent: "${s.parent}" is not a key of PARENTS`);
  if (s.listable && (vars.join() !== 'id' || m[2])) {
    problems.push(`${at}.listable: only a URI whose one variable is {id} can be listed per parent`);
  }
  return problems;
}

/** Synonyms whose words no operation uses (by name, title, toolset or description) find nothing. */
export function checkSynonyms(synonyms: Record<string, string[]>, texts: readonly string[]): string[] {
  const corpus = texts.join(' ').toLowerCase();
  const problems: string[] = [];
  for (const [word, targets] of Object.entries(synonyms)) {
    for (const t of targets) {
      if (!corpus.includes(t)) {
        problems.push(`scripts/policy.ts SEARCH_SYNONYMS.${word}: no operation mentions "${t}"`);
      }
    }
  }
  return problems;
}
