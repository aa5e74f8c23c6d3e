/**
 * The checked-in snapshot of every tool's interface (like github-mcp-server's toolsnaps): name, title, description,
 * annotations and the published input schema, built through the real tool builder. `npm run generate` writes it;
 * `npm run check:generated` and a test fail when it is stale.
 */
import { compile, publishedAnnotations } from '../../src/tools/define.js';
import { operationTools } from '../../src/tools/operations.js';

export async function renderToolSnapshot(): Promise<string> {
  const tools = operationTools.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    toolset: t.toolset,
    deprecated: t.deprecated ?? false,
    annotations: publishedAnnotations(t.annotations),
    inputSchema: compile(t).json,
  }));
  return `${JSON.stringify(tools, null, 2)}\n`;
}
