/**
 * Generates the operation table from the vendored Kernel OpenAPI spec.
 *
 *   npm run generate            writes src/generated/kernel-operations.gen.ts and the README tool table
 *   npm run check:generated     regenerates into memory and fails on any difference
 *
 * Rows are data: the spec plus the reviewed policy in scripts/policy.ts (checked against the spec first); behaviour
 * lives in hand-written code (src/tools/operations.ts, src/resources/) that reads them. The table is formatted by
 * biome here, so `check:generated` compares what `npm run format` would leave.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { OperationRow } from '../src/kernel/operation.js';
import { checkPolicy, checkSynonyms, describedNode, type Spec, specOperations } from './lib/policy-check.js';
import { signaturesSource } from './lib/signatures.js';
import { emitZod, type JsonSchema, type SchemaContext, sentences, shortDescription } from './lib/zod-emitter.js';
import * as policy from './policy.js';
import {
  AFTER_HINT,
  DEFAULT_TOOLSETS,
  FIELD_DESCRIPTIONS,
  OPERATIONS,
  PARENTS,
  SEARCH_SYNONYMS,
  type StreamPolicy,
  TOOLSETS,
} from './policy.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const specPath = join(root, 'spec/kernel-openapi.yml');
const outPath = join(root, 'src/generated/kernel-operations.gen.ts');
const signaturesPath = join(root, 'src/generated/kernel-signatures.gen.ts');
const readmePath = join(root, 'README.md');
const snapshotPath = join(root, 'test/__snapshots__/tools.json');

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  deprecated?: boolean;
  description?: string;
  schema: JsonSchema;
}
interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  deprecated?: boolean;
  'x-hidden'?: boolean;
  parameters?: (Param | { $ref: string })[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, unknown>; $ref?: string }>;
  'x-codeSamples'?: { lang: string; source: string }[];
}

const spec = parse(readFileSync(specPath, 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
};

/** The same spec, typed for the policy checks. */
const specView = spec as unknown as Spec;

function resolveRef<T>(ref: string): T {
  const parts = ref.replace(/^#\//, '').split('/');
  let node: unknown = spec;
  for (const part of parts) node = (node as Record<string, unknown>)[part];
  if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
  return node as T;
}

const ctx: SchemaContext = { resolveRef: (ref) => resolveRef<JsonSchema>(ref) };

function snake(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
}

function toolName(op: Operation): string {
  const override = OPERATIONS[op.operationId]?.name;
  if (override) return override;
  const js = op['x-codeSamples']?.find((c) => c.lang === 'JavaScript');
  const call = js?.source.match(/client\.([A-Za-z0-9_.]+)\(/)?.[1];
  if (!call) throw new Error(`${op.operationId}: no JavaScript code sample and no name override`);
  // `browsers.deleteByID` is the SDK's name for DELETE /browsers/{id}; the tool is `browsers_delete`.
  return call
    .split('.')
    .map((part) => snake(part.replace(/ByID$/, '')))
    .join('_');
}

/** "Deprecated: use `GET /org/projects` instead" -> the tool for that operation. */
function replacementFor(op: Operation, byRoute: Map<string, string>): string | undefined {
  const text = `${op.summary ?? ''} ${op.description ?? ''}`;
  const m = text.match(/[Uu]se `?(GET|POST|PUT|PATCH|DELETE) (\/[A-Za-z0-9_/{}]+)`? instead/);
  if (!m) return undefined;
  return byRoute.get(`${m[1]} ${m[2]}`);
}

/** A list operation's paging parameters (see collectRows). */
const PAGING = new Set(['limit', 'offset']);

/** The longest generated tool description (overrides are reviewed by hand). */
const TOOL_DESCRIPTION_MAX = 200;

const STOP_WORDS = new Set(['a', 'an', 'the', 'of', 'for', 'to', 'by', 'its', 'on', 'in', 'and', 'or', 'with', 'all']);
const contentWords = (text: string) =>
  new Set(
    text
      .toLowerCase()
      .replace(/[^a-z0-9 ]+/g, ' ')
      .split(' ')
      .map((w) => w.replace(/(ies|es|s)$/, ''))
      .filter((w) => w && !STOP_WORDS.has(w)),
  );

/** A sentence that mostly repeats the summary ("Update a browser session." after "Update browser session"). */
function repeats(summary: string, sentence: string): boolean {
  const a = contentWords(summary);
  const b = [...contentWords(sentence)];
  if (b.length === 0) return true;
  const shared = b.filter((w) => a.has(w)).length;
  return shared / b.length >= 0.6;
}

/** The summary without transport details (stream tools read through a cursor, not an SSE connection). */
function summaryOf(op: Operation): string {
  return (op.summary ?? '')
    .trim()
    .replace(/\.$/, '')
    .replace(/ via SSE$/i, '');
}

function describeOperation(op: Operation): string {
  const override = OPERATIONS[op.operationId]?.description;
  if (override) return override;
  const summary = summaryOf(op);
  const desc = (op.description ?? '')
    .replace(/\*\*Deprecated:[^*]*\*\*/g, '')
    .replace(/Deprecated: use `[^`]+` instead\.[^.]*\./g, '')
    .trim();
  const parts = sentences(desc);
  // The spec often opens its description with the summary itself, longer ("List profiles with optional filtering").
  const first = parts[0];
  const opening = first?.toLowerCase().startsWith(summary.toLowerCase()) ? [first.replace(/\.?$/, '.')] : [];
  const rest = (opening.length ? parts.slice(1) : parts).filter(
    (x) => !repeats(summary, x) && !/server-sent events|\bSSE\b/i.test(x),
  );
  const head = opening[0] ?? (summary ? `${summary}.` : '');
  return shortDescription([head, ...rest].join(' '), TOOL_DESCRIPTION_MAX);
}

type BodyKind = 'none' | 'json' | 'binary' | 'multipart';
type AnswerKind = 'json' | 'binary' | 'stream' | 'empty';

interface Row {
  operationId: string;
  name: string;
  title: string;
  description: string;
  method: string;
  path: string;
  tag: string;
  toolset: string;
  deprecated: boolean;
  hidden: boolean;
  replacement?: string;
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
  params: { path: string[]; query: string[]; header: Record<string, string> };
  body: { kind: BodyKind; mediaType?: string; fields: string[]; binary: string[] };
  answer: { kind: AnswerKind; mediaType?: string; list: boolean };
  secrets?: string[];
  listChanging?: true;
  inDefaultSet?: boolean;
  stream?: StreamRow;
  view?: 'browser' | 'login';
  screen?: 'coordinates' | 'position' | 'viewport';
  shape?: 'screenshot' | 'exec' | 'file';
  inputCode: string;
}

/** The policy of one operation as its row carries it (see OperationRow in src/kernel/operation.ts). */
function policyFields(
  id: string,
  toolset: string,
  params: Param[],
): Pick<Row, 'secrets' | 'listChanging' | 'inDefaultSet' | 'stream' | 'view' | 'screen' | 'shape'> {
  const p = OPERATIONS[id] ?? {};
  return {
    ...(p.secrets?.length ? { secrets: p.secrets } : {}),
    ...(p.listChanging ? { listChanging: true as const } : {}),
    ...(DEFAULT_TOOLSETS.includes(toolset) ? { inDefaultSet: !p.notDefault } : {}),
    ...(p.stream ? { stream: streamRow(p.stream, params) } : {}),
    ...(p.view ? { view: p.view } : {}),
    ...(p.screen ? { screen: p.screen } : {}),
    ...(p.shape ? { shape: p.shape } : {}),
  };
}

type StreamRow = NonNullable<OperationRow['stream']>;

function streamRow(s: StreamPolicy, params: Param[]): StreamRow {
  const [, pathPart = '', queryPart] = /^kernel:\/\/([^?{]*(?:\{\w+\}[^?{]*)*)(?:\{\?([\w,]+)\})?$/.exec(s.uri) ?? [];
  const parent = PARENTS[s.parent]!;
  const list = specOperations(specView).find((o) => o.op.operationId === parent.list)!;
  const query = queryPart?.split(',') ?? [];
  // URI query parameters with a fixed set of values complete to them.
  const complete: Record<string, string[]> = {};
  for (const q of query) {
    const values = params.find((p) => p.in === 'query' && p.name === q)?.schema.enum;
    if (values) complete[q] = values.map(String);
  }
  return {
    name: s.resource,
    uriTemplate: s.uri,
    segments: pathPart.split('/'),
    query,
    ...(Object.keys(complete).length ? { complete } : {}),
    title: s.title,
    description: s.description + AFTER_HINT,
    envelope: s.events === 'envelope',
    parent: {
      kind: s.parent,
      path: list.path,
      idField: parent.idField,
      what: parent.what,
      ...(parent.live ? { live: parent.live } : {}),
    },
    listable: s.listable,
    ...(s.filter ? { filter: s.filter } : {}),
  };
}

function collectRows(): Row[] {
  const ops: { method: string; path: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) ops.push({ method: method.toUpperCase(), path, op });
    }
  }
  const byRoute = new Map<string, string>();
  for (const { method, path, op } of ops) byRoute.set(`${method} ${path}`, toolName(op));

  const rows: Row[] = [];
  for (const { method, path, op } of ops) {
    const name = toolName(op);
    const tag = op.tags?.[0] ?? '';
    const toolset = TOOLSETS[tag];
    if (!toolset) throw new Error(`${op.operationId}: tag "${tag}" has no toolset`);

    const params = (op.parameters ?? []).map((p) => ('$ref' in p ? resolveRef<Param>(p.$ref) : p));
    const shape: { key: string; schema: JsonSchema; required: boolean; description?: string }[] = [];
    const pathParams: string[] = [];
    const queryParams: string[] = [];
    const headerParams: Record<string, string> = {};
    for (const p of params) {
      let key = p.name;
      if (p.in === 'path') pathParams.push(p.name);
      else if (p.in === 'query') queryParams.push(p.name);
      else if (p.in === 'header') {
        key = snake(p.name);
        headerParams[key] = p.name;
      } else continue;
      const description =
        p.deprecated && !/^deprecated/i.test(p.description ?? '')
          ? `Deprecated. ${p.description ?? ''}`
          : p.description;
      shape.push({ key, schema: p.schema, required: p.in === 'path' || !!p.required, description });
    }

    let body: Row['body'] = { kind: 'none', fields: [], binary: [] };
    let bodyCode = '';
    if (op.requestBody) {
      const [mediaType, media] = Object.entries(op.requestBody.content)[0]!;
      const required = !!op.requestBody.required;
      if (mediaType === 'application/octet-stream') {
        // The whole body is bytes: the `content` argument (base64), `content_text` (UTF-8 text) or `content_path` (a
        // local file).
        const wrapper: JsonSchema = {
          type: 'object',
          properties: {
            content: { type: 'string', format: 'binary', description: 'The file content.', 'x-text': true },
          },
          required: ['content'],
        };
        const emitted = emitZod(wrapper, ctx, { topLevel: true, bodyRequired: required });
        body = { kind: 'binary', mediaType, fields: ['content'], binary: ['content'] };
        bodyCode = emitted.code;
      } else {
        const kind: BodyKind = mediaType === 'multipart/form-data' ? 'multipart' : 'json';
        const emitted = emitZod(media.schema, ctx, { topLevel: true, bodyRequired: required });
        body = { kind, mediaType, fields: emitted.fields, binary: emitted.binaryFields };
        bodyCode = emitted.code;
      }
    }
    for (const s of shape) {
      if (body.fields.includes(s.key))
        throw new Error(`${op.operationId}: parameter ${s.key} collides with a body field`);
    }

    const ok = Object.entries(op.responses).filter(([code]) => code.startsWith('2'));
    let answer: Row['answer'] = { kind: 'empty', list: false };
    for (const [, res] of ok) {
      const media = Object.keys(res.content ?? {})[0];
      if (!media) continue;
      const schema = (res.content?.[media] as { schema?: JsonSchema } | undefined)?.schema;
      if (media === 'application/json') {
        const resolved = schema?.$ref ? resolveRef<JsonSchema>(schema.$ref) : schema;
        answer = { kind: 'json', mediaType: media, list: resolved?.type === 'array' };
      } else if (media === 'text/event-stream') answer = { kind: 'stream', mediaType: media, list: false };
      else answer = { kind: 'binary', mediaType: media, list: false };
      break;
    }

    const reviewed = OPERATIONS[op.operationId] ?? {};
    const readOnly = method === 'GET' || !!reviewed.readOnly;
    const annotations = {
      readOnlyHint: readOnly,
      destructiveHint: !readOnly && (method === 'DELETE' || !!reviewed.destructive),
      idempotentHint: readOnly || method === 'PUT' || method === 'DELETE',
      openWorldHint: true,
    };

    const deprecated = !!op.deprecated;
    const replacement = deprecated ? replacementFor(op, byRoute) : undefined;
    let description = describeOperation(op);
    if (deprecated) {
      description = `Deprecated${replacement ? `: use ${replacement} instead` : ''}. ${description}`;
    }

    const paramCode = shape
      .map((s) => {
        let schema = s.description && !s.schema.description ? { ...s.schema, description: s.description } : s.schema;
        // A list's `limit` and `offset` need no words ("Maximum number of results to return", "Number of results to
        // skip"): their default and bounds are in the schema, and the answer's next_offset says where to go on.
        if (answer.list && PAGING.has(s.key)) schema = { ...schema, description: undefined };
        const code = emitZod(schema, ctx, { field: s.key }).code;
        return `${JSON.stringify(s.key)}: ${s.required ? code : `${code}.optional()`}`;
      })
      .join(', ');
    const inputCode = bodyCode
      ? bodyCode.replace(/^z\.strictObject\(\{/, `z.strictObject({ ${paramCode}${paramCode ? ', ' : ''}`)
      : `z.strictObject({ ${paramCode} })`;

    rows.push({
      operationId: op.operationId,
      name,
      title: summaryOf(op) || name,
      description,
      method,
      path,
      tag,
      toolset,
      deprecated,
      hidden: !!op['x-hidden'],
      ...(replacement ? { replacement } : {}),
      annotations,
      params: { path: pathParams, query: queryParams, header: headerParams },
      body,
      answer,
      ...policyFields(op.operationId, toolset, params),
      inputCode,
    });
  }
  const names = new Set<string>();
  for (const r of rows) {
    if (names.has(r.name)) throw new Error(`duplicate tool name ${r.name}`);
    if (r.name.length > 40 || !/^[a-z0-9_]+$/.test(r.name)) throw new Error(`bad tool name ${r.name}`);
    names.add(r.name);
  }
  return rows;
}

/** One entry per operation, a field a line; biome then lays out what is long (see `formatted`). */
function renderTable(rows: Row[]): string {
  const out: string[] = [
    '// Generated by scripts/generate.ts from spec/kernel-openapi.yml and scripts/policy.ts. Do not edit: run `npm run generate`.',
    "import { z } from 'zod';",
    "import { exactlyOneOf, type OperationRow } from '../kernel/operation.js';",
    '',
    '/** Words agents use for what the operations name differently (scripts/policy.ts SEARCH_SYNONYMS). */',
    `export const SEARCH_SYNONYMS: Readonly<Record<string, readonly string[]>> = ${JSON.stringify(SEARCH_SYNONYMS)};`,
    '',
    'export const operations: readonly OperationRow[] = [',
  ];
  for (const r of rows) {
    const { inputCode, ...data } = r;
    out.push('  {');
    for (const [k, v] of Object.entries(data)) out.push(`    ${k}: ${JSON.stringify(v)},`);
    out.push(`    input: () => ${inputCode},`, '  },');
  }
  out.push('];', '');
  return out.join('\n');
}

/** The text as `npm run format` leaves it (biome, with the project's settings), so lint and drift checks agree. */
function formatted(file: string, text: string): string {
  const bin = join(root, 'node_modules/.bin/biome');
  const res = spawnSync(bin, ['format', `--stdin-file-path=${file}`], { input: text, encoding: 'utf8', cwd: root });
  if (res.status !== 0) throw new Error(`biome could not format ${file}: ${res.stderr || res.error?.message}`);
  return res.stdout;
}

function renderReadmeTable(rows: Row[]): string {
  const lines = ['| Toolset | Tool | What it does | Hints |', '| --- | --- | --- | --- |'];
  const sorted = [...rows].sort((a, b) => a.toolset.localeCompare(b.toolset) || a.name.localeCompare(b.name));
  for (const r of sorted) {
    const hints = [
      r.annotations.readOnlyHint ? 'read-only' : '',
      r.annotations.destructiveHint ? 'destructive' : '',
      r.deprecated ? 'deprecated' : '',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`| ${r.toolset} | \`${r.name}\` | ${r.title.replace(/\|/g, '\\|')} | ${hints} |`);
  }
  return lines.join('\n');
}

const START = '<!-- tools:start -->';
const END = '<!-- tools:end -->';

function withReadmeTable(readme: string, table: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${START} ... ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n${table}\n${readme.slice(b)}`;
}

function fail(problems: string[]): never {
  console.error(`scripts/policy.ts does not fit the spec:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

async function main() {
  const check = process.argv.includes('--check');
  const problems = checkPolicy(specView, policy);
  if (problems.length) fail(problems);
  // The reviewed field descriptions replace the spec's before any schema is emitted (the spec file is not changed).
  for (const [key, text] of Object.entries(FIELD_DESCRIPTIONS)) {
    const found = describedNode(specView, key);
    if ('node' in found) found.node.description = text;
  }
  const rows = collectRows();
  const unused = checkSynonyms(
    SEARCH_SYNONYMS,
    rows.flatMap((r) => [r.name, r.title, r.toolset, r.description]),
  );
  if (unused.length) fail(unused);
  const table = formatted(outPath, renderTable(rows));
  const readme = withReadmeTable(readFileSync(readmePath, 'utf8'), renderReadmeTable(rows));
  const targets: [string, string][] = [
    [outPath, table],
    [signaturesPath, formatted(signaturesPath, signaturesSource(spec as Record<string, unknown>, rows))],
    [readmePath, readme],
  ];
  const drift: string[] = [];
  for (const [file, content] of targets) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {}
    if (current !== content) {
      if (check) drift.push(file);
      else writeFileSync(file, content);
    }
  }
  // The tool snapshot is built from the generated table through the real tool builder; imported only now, after the
  // table is written, so one run of `npm run generate` settles every output.
  const { renderToolSnapshot } = await import('./lib/snapshot.js');
  const snapshot = await renderToolSnapshot();
  let currentSnap = '';
  try {
    currentSnap = readFileSync(snapshotPath, 'utf8');
  } catch {}
  if (currentSnap !== snapshot) {
    if (check) drift.push(snapshotPath);
    else writeFileSync(snapshotPath, snapshot);
  }
  if (drift.length) {
    console.error(`Generated files are stale: ${drift.map((f) => f.slice(root.length + 1)).join(', ')}`);
    console.error('Run `npm run generate` and commit the result.');
    process.exit(1);
  }
  console.error(`${check ? 'checked' : 'generated'}: ${rows.length} operations`);
}

await main();
