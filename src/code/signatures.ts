/**
 * What code mode tells an agent about an operation: its `kernel` path and a TypeScript signature (arguments from the
 * tool's own published schema, the answer from the generated signatures), with its one-line doc.
 */
import { signatures } from '../generated/kernel-signatures.gen.js';
import { compile, type ToolDefinition } from '../tools/define.js';
import { pathFromName } from './paths.js';
import { tsType } from './ts-type.js';

/** The operation's path under `kernel`: the generated one, or (tools outside the Kernel API) from its name. */
export function sdkPathOf(toolName: string): string {
  return signatures[toolName]?.sdk ?? pathFromName(toolName);
}

/** One line: `kernel.browsers.create(args): Promise<…>` with the argument names, for search results. */
export function shortSignature(def: ToolDefinition): string {
  const json = compile(def).json as { properties?: Record<string, unknown>; required?: string[] };
  const required = new Set(json.required ?? []);
  const args = Object.keys(json.properties ?? {}).map((k) => (required.has(k) ? k : `${k}?`));
  return `kernel.${sdkPathOf(def.name)}({ ${args.join(', ')} })`;
}

/** The full declaration: doc comment, argument type and answer type. */
export function fullSignature(def: ToolDefinition): string {
  const args = tsType(compile(def).json as never, { docChars: 100, maxDepth: 4 });
  const result = signatures[def.name]?.result ?? 'Record<string, unknown>';
  const doc = def.description.replace(/\*\//g, '*\\/');
  const hasRequired = ((compile(def).json as { required?: string[] }).required ?? []).length > 0;
  return `/** ${doc} */\nkernel.${sdkPathOf(def.name)}(args${hasRequired ? '' : '?'}: ${args}): Promise<${result}>`;
}
