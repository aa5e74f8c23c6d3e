/**
 * JSON Schema to a TypeScript type, compact enough to show an agent: the code-mode signatures of each operation's
 * arguments (from the tool's own published schema) and answer (from the spec's response schema, by the generator).
 */

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  description?: string;
  format?: string;
};

export interface TsTypeOptions {
  /** Property docs: the first sentence of each description, cut to this many characters (0: none). */
  docChars?: number;
  /** Deeper objects become `object` (keeps huge answers readable). */
  maxDepth?: number;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function firstSentence(text: string, max: number): string {
  const s = text.replace(/\s+/g, ' ').trim();
  const end = s.search(/\.(\s|$)/);
  const one = end > 0 ? s.slice(0, end + 1) : s;
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function literal(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

export function tsType(schema: Schema | undefined, options: TsTypeOptions = {}, depth = 0, indent = ''): string {
  if (!schema || typeof schema !== 'object') return 'unknown';
  const { docChars = 80, maxDepth = 4 } = options;
  const nullable = schema.nullable ? ' | null' : '';
  if (schema.const !== undefined) return literal(schema.const) + nullable;
  if (schema.enum) return schema.enum.map(literal).join(' | ') + nullable;
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts) {
    const parts = [...new Set(alts.map((a) => tsType(a, options, depth, indent)))];
    return parts.join(' | ') + nullable;
  }
  if (schema.allOf) {
    const parts = schema.allOf.map((a) => tsType(a, options, depth, indent));
    return parts.join(' & ') + nullable;
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1) {
    return types.map((t) => tsType({ ...schema, type: t, nullable: false }, options, depth, indent)).join(' | ');
  }
  switch (types[0]) {
    case 'string':
      return (schema.format === 'binary' ? 'Uint8Array' : 'string') + nullable;
    case 'integer':
    case 'number':
      return `number${nullable}`;
    case 'boolean':
      return `boolean${nullable}`;
    case 'null':
      return 'null';
    case 'array': {
      const item = tsType(schema.items, options, depth, indent);
      return (/[|&\s]/.test(item) && !item.startsWith('{') ? `(${item})[]` : `${item}[]`) + nullable;
    }
    default:
      break;
  }
  if (schema.properties || types[0] === 'object' || schema.additionalProperties !== undefined) {
    const props = Object.entries(schema.properties ?? {});
    const extra = schema.additionalProperties;
    if (props.length === 0) {
      if (extra && typeof extra === 'object') return `Record<string, ${tsType(extra, options, depth + 1, indent)}>`;
      return `Record<string, unknown>${nullable}`;
    }
    if (depth >= maxDepth) return `object${nullable}`;
    const required = new Set(schema.required ?? []);
    const inner = `${indent}  `;
    const lines = props.map(([key, value]) => {
      const doc =
        docChars > 0 && value.description ? `${inner}/** ${firstSentence(value.description, docChars)} */\n` : '';
      const name = IDENT.test(key) ? key : JSON.stringify(key);
      return `${doc}${inner}${name}${required.has(key) ? '' : '?'}: ${tsType(value, options, depth + 1, inner)};`;
    });
    return `{\n${lines.join('\n')}\n${indent}}${nullable}`;
  }
  return 'unknown';
}
