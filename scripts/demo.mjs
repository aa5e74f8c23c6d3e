#!/usr/bin/env node
/**
 * npm run demo: a short scripted agent session through an MCP client over stdio against `--simulate`, printing
 * what an agent would see. Needs `npm install` (and builds first).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'output');

const say = (...args) => console.log(...args);
const first = (result, type) => result.content.find((c) => c.type === type);

async function main() {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(root, 'dist/src/cli.js'), '--simulate', '--log-level', 'warn'],
    stderr: 'inherit',
  });
  const client = new Client({ name: 'kernel-mcp-demo', version: '1.0.0' });
  await client.connect(transport);
  const call = async (name, args) => {
    const result = await client.callTool({ name, arguments: args });
    if (result.isError) throw new Error(`${name} failed: ${first(result, 'text')?.text}`);
    return result;
  };

  try {
    say(`Connected to ${client.getServerVersion()?.name} ${client.getServerVersion()?.version}`);
    say(`Instructions: ${client.getInstructions()?.split('\n')[0]}`);
    const { tools } = await client.listTools();
    say(
      `Tools offered: ${tools.length} (e.g. ${tools
        .slice(0, 4)
        .map((t) => t.name)
        .join(', ')}, ...)`,
    );

    const created = await call('browsers_create', { headless: true, viewport: { width: 1024, height: 768 } });
    const browser = created.structuredContent;
    say(`\n> browsers_create -> session ${browser.session_id}`);
    say(`  live view: ${browser.browser_live_view_url ?? '(headless)'}`);

    const shot = await call('browsers_computer_capture_screenshot', { id: browser.session_id });
    const image = first(shot, 'image');
    mkdirSync(outDir, { recursive: true });
    const pngPath = join(outDir, image.mimeType === 'image/png' ? 'demo-screenshot.png' : 'demo-screenshot.jpg');
    writeFileSync(pngPath, Buffer.from(image.data, 'base64'));
    say(`\n> browsers_computer_capture_screenshot -> ${image.mimeType}, ${first(shot, 'text')?.text}`);
    say(`  saved to ${pngPath}`);

    const note = 'Hello from kernel-mcp!\n';
    await call('browsers_fs_write_file', {
      id: browser.session_id,
      path: '/tmp/hello.txt',
      content: Buffer.from(note).toString('base64'),
    });
    const read = await call('browsers_fs_read_file', { id: browser.session_id, path: '/tmp/hello.txt' });
    say(
      `\n> browsers_fs_write_file + browsers_fs_read_file -> ${JSON.stringify(first(read, 'resource').resource.text)}`,
    );

    const exec = await call('browsers_process_exec', {
      id: browser.session_id,
      command: 'cat',
      args: ['/tmp/hello.txt'],
    });
    const out = exec.structuredContent;
    say(`\n> browsers_process_exec cat /tmp/hello.txt -> ${out.status}, stdout ${JSON.stringify(out.stdout)}`);

    await call('browsers_delete', { id: browser.session_id });
    say(`\n> browsers_delete -> done`);
    const gone = await client.callTool({ name: 'browsers_retrieve', arguments: { id: browser.session_id } });
    say(`> browsers_retrieve afterwards -> ${gone.isError ? 'error: ' : ''}${first(gone, 'text')?.text.slice(0, 160)}`);
  } finally {
    await client.close();
  }
}

main().catch((err) => {
  console.error(`demo failed: ${err.message}`);
  process.exit(1);
});
