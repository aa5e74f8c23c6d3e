// Runs after `tsc` (npm run build): writes every tool's published JSON Schema to dist/src/generated/tool-schemas.json,
// so the built server lists its tools without building a zod schema at start-up (src/tools/define.ts reads it; a
// tool whose name or description does not match is computed at run time as before). test/tool-schemas.test.ts
// checks the file against the schemas computed from zod.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { jsonSchemaOf, PREBUILT_SCHEMAS } = await import('../dist/src/tools/define.js');
const { operationTools } = await import('../dist/src/tools/operations.js');
const { proxyPoolTools } = await import('../dist/src/proxy-pool/index.js');
const { dynamicTools } = await import('../dist/src/tools/dynamic.js');

const out = {};
for (const def of [...operationTools, ...proxyPoolTools, ...dynamicTools(operationTools)]) {
  if (Object.hasOwn(out, def.name)) throw new Error(`two tools named ${def.name}`);
  out[def.name] = { description: def.description, inputSchema: jsonSchemaOf(def) };
}
writeFileSync(fileURLToPath(PREBUILT_SCHEMAS), `${JSON.stringify(out)}\n`);
