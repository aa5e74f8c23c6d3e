/**
 * Skills and prompts end to end, through the built CLI against --simulate: a 2026-07-28 client lists and gets every
 * skill through the Skills extension and reads its files (digests verified by the SDK's SkillsClient); a 2025 client
 * finds and reads the same files as skill:// resources; prompts/list, prompts/get and argument completion work in
 * both eras, over stdio and HTTP. --no-skills turns the skills off and keeps the prompts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SkillsClient } from '@modelcontextprotocol/client/ext/skills';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { connectHttp, type HttpServerProcess, startHttp } from './helpers/http.js';
import { CLI, connectStdio, ERAS, type Era, type McpSession, ROOT } from './helpers/mcp.js';
import { shippedSkills, skillFiles } from './helpers/skills.js';

const SKILLS = shippedSkills();

// biome-ignore lint/suspicious/noExplicitAny: the two eras' clients share these methods under one loose type.
type Loose = any;

let http: HttpServerProcess;
beforeAll(async () => {
  http = await startHttp({ args: ['--simulate'] });
}, 60_000);
afterAll(async () => {
  await http?.stop();
});

const TRANSPORTS = ['stdio', 'http'] as const;
async function connect(transport: (typeof TRANSPORTS)[number], era: Era): Promise<McpSession> {
  return transport === 'stdio' ? connectStdio(era, { args: ['--simulate'] }) : connectHttp(era, http.url);
}

describe.each(TRANSPORTS)('skills and prompts over %s', (transport) => {
  it('a 2026-07-28 client lists, gets and reads every skill through the Skills extension', async () => {
    const mcp = await connect(transport, 'modern');
    try {
      const skills = new SkillsClient(mcp.client as Loose, { parseFrontmatter: (y) => parseYaml(y) });
      expect(skills.supported).toBe(true);
      const listing = await skills.list();
      expect(listing.invalid).toEqual([]);
      expect(listing.skills.map((s) => s.frontmatter.name).sort()).toEqual(SKILLS);
      expect(listing.ttlMs).toBeGreaterThan(0);
      for (const skill of listing.skills) {
        const name = skill.frontmatter.name;
        const { skill: got } = await skills.get(skill.uri);
        expect(got.frontmatter.name).toBe(name);
        const file = await skills.read(got);
        expect(file.verified).toBe(true);
        expect(file.frontmatter?.name).toBe(name);
        expect(file.text).toBe(readFileSync(join(ROOT, 'skills', name, 'SKILL.md'), 'utf8'));
        // Every file the skill publishes reads back verified against its digest.
        expect(Array.isArray(got.resources)).toBe(true);
        for (const entry of got.resources as { uri: string }[]) {
          expect((await skills.read(got, entry.uri)).verified, entry.uri).toBe(true);
        }
      }
    } finally {
      await mcp.close();
    }
  });

  it.each(ERAS)('a %s client finds the skill files as resources and reads them', async (era) => {
    const mcp = await connect(transport, era);
    try {
      const { resources } = await mcp.client.listResources();
      const uris = resources.map((r) => String(r.uri)).filter((u) => u.startsWith('skill://'));
      for (const name of SKILLS) {
        const uri = uris.find((u) => u.endsWith(`/${name}/SKILL.md`));
        expect(uri, `${name} in resources/list`).toBeDefined();
        const { contents } = await mcp.client.readResource({ uri: uri as string });
        expect(contents[0]?.text).toBe(readFileSync(join(ROOT, 'skills', name, 'SKILL.md'), 'utf8'));
      }
    } finally {
      await mcp.close();
    }
  });

  it.each(ERAS)('a %s client lists and gets the prompts, with completion of the browser id', async (era) => {
    const mcp = await connect(transport, era);
    const client = mcp.client as Loose;
    try {
      const { prompts } = await client.listPrompts();
      expect(prompts.map((p: { name: string }) => p.name).sort()).toEqual(['debug-browser-session', 'kernel-concepts']);
      const debugPrompt = prompts.find((p: { name: string }) => p.name === 'debug-browser-session');
      expect(debugPrompt.arguments).toEqual([expect.objectContaining({ name: 'id', required: true })]);

      const concepts = await client.getPrompt({ name: 'kernel-concepts' });
      const conceptsText = concepts.messages[0].content.text as string;
      expect(conceptsText).toContain('# Kernel concepts');
      expect(conceptsText).toContain('browser_pools_acquire');

      const created = await mcp.call('browsers_create', { headless: true });
      const id = (created.structuredContent as { session_id: string }).session_id;
      const completion = await client.complete({
        ref: { type: 'ref/prompt', name: 'debug-browser-session' },
        argument: { name: 'id', value: id.slice(0, 3) },
      });
      expect(completion.completion.values).toContain(id);

      const debug = await client.getPrompt({ name: 'debug-browser-session', arguments: { id } });
      const debugText = debug.messages[0].content.text as string;
      expect(debugText).toContain(`\`${id}\``);
      expect(debugText).toContain('browsers_telemetry_stream');
      await expect(client.getPrompt({ name: 'debug-browser-session', arguments: {} })).rejects.toThrow(/id/);
      await mcp.call('browsers_delete', { id });
    } finally {
      await mcp.close();
    }
  });
});

describe('--no-skills', () => {
  it.each(ERAS)('%s: no skills are served, the prompts stay', async (era) => {
    const mcp = await connectStdio(era, { args: ['--simulate', '--no-skills'] });
    const client = mcp.client as Loose;
    try {
      const { resources } = await mcp.client.listResources();
      expect(resources.filter((r) => String(r.uri).startsWith('skill://'))).toEqual([]);
      if (era === 'modern') expect(new SkillsClient(client).supported).toBe(false);
      expect((await client.listPrompts()).prompts).toHaveLength(2);
      expect(mcp.client.getInstructions()).not.toContain('skill://');
    } finally {
      await mcp.close();
    }
  });
});

describe('kernel-mcp skills export DIR', () => {
  it('writes every skill folder, byte for byte, for file-based skill loaders', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kernel-mcp-skills-')), 'out');
    const out = execFileSync(process.execPath, [CLI, 'skills', 'export', dir], { encoding: 'utf8' });
    expect(out).toContain(`Wrote ${SKILLS.length} skills`);
    for (const name of SKILLS) {
      for (const file of skillFiles(name)) {
        const rel = file.path.slice(join(ROOT, 'skills').length);
        expect(readFileSync(join(dir, rel), 'utf8'), rel).toBe(file.text);
      }
    }
  });

  it('refuses a call without a folder, naming the usage', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, [CLI, 'skills', 'export'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr?: string }).stderr);
    }
    // The command as the user ran it: `node dist/src/cli.js` from the clone.
    expect(stderr).toContain('usage: node dist/src/cli.js skills export DIR');
  });
});
