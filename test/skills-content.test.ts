/**
 * The shipped skills say only what is true: every tool and argument a skill names exists (checked against the built
 * server's own tools/list for the `all` set; for the default set, a tool it lacks must be reachable by the toolsets
 * the skill tells the reader to enable), and every worked example runs against --simulate and succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, type McpSession, text } from './helpers/mcp.js';
import { type ExampleStep, shippedSkills, skillFiles, workedExamples } from './helpers/skills.js';

type Schema = { properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[] };
type Listing = Map<string, Schema>;

async function listing(args: string[]): Promise<Listing> {
  const mcp = await connectStdio('modern', { args: ['--simulate', ...args] });
  try {
    return new Map((await mcp.listTools()).map((t) => [t.name as string, t.inputSchema as Schema]));
  } finally {
    await mcp.close();
  }
}

/** Every property name at any depth of a schema. */
function argumentNames(schema: Schema | undefined, out = new Set<string>()): Set<string> {
  if (!schema) return out;
  for (const [k, v] of Object.entries(schema.properties ?? {})) {
    out.add(k);
    argumentNames(v, out);
  }
  argumentNames(schema.items, out);
  for (const s of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) argumentNames(s, out);
  return out;
}

/** What a skill names: backticked snake_case tokens, and `tool {arg, arg.sub}` argument lists. */
function namedIn(text: string): { tokens: Set<string>; argLists: { tool: string; args: string[] }[] } {
  const tokens = new Set<string>();
  const argLists: { tool: string; args: string[] }[] = [];
  for (const m of text.matchAll(/`([^`\n]+)`/g)) {
    const code = m[1] ?? '';
    const call = /^([a-z][a-z0-9_]*) \{([^}]*)\}$/.exec(code);
    if (call) {
      tokens.add(call[1] as string);
      const args = (call[2] ?? '')
        .split(',')
        .map((a) => a.trim().split(/[.:]/)[0]?.trim() ?? '')
        .filter(Boolean);
      argLists.push({ tool: call[1] as string, args });
    } else if (/^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(code)) tokens.add(code);
  }
  return { tokens, argLists };
}

const SKILLS = shippedSkills();
const DEFAULT_TOOLSETS = [
  'browsers',
  'computer',
  'playwright',
  'browser_filesystem',
  'processes',
  'replays',
  'profiles',
];
const namesDefaultToolset = (ts: string) => DEFAULT_TOOLSETS.includes(ts);
const declaredToolsets = (name: string): string[] => {
  const m = /^\s+toolsets:\s*(.+)$/m.exec(skillFiles(name).find((f) => f.path.endsWith('SKILL.md'))?.text ?? '');
  return (m?.[1] ?? '').split(',').map((s) => s.trim());
};

let all: Listing;
let defaults: Listing;
const withToolsets = new Map<string, Listing>();
beforeAll(async () => {
  all = await listing(['--toolsets', 'all']);
  defaults = await listing([]);
  for (const name of SKILLS) withToolsets.set(name, await listing(['--toolsets', `default,${declaredToolsets(name)}`]));
}, 120_000);

describe.each(SKILLS)('skill %s', (name) => {
  const files = skillFiles(name);
  const body = files.map((f) => f.text).join('\n');

  it('names only tools and arguments the server has (the all set)', () => {
    const { tokens, argLists } = namedIn(body);
    const tools = [...tokens].filter((t) => all.has(t));
    expect(tools.length, 'a skill names the tools it uses').toBeGreaterThan(0);
    const args = new Set(tools.flatMap((t) => [...argumentNames(all.get(t))]));
    const toolsets = new Set(declaredToolsets(name));
    const unknown = [...tokens].filter((t) => !all.has(t) && !args.has(t) && !toolsets.has(t));
    expect(unknown, 'backticked names that are neither a tool, an argument of a named tool nor a toolset').toEqual([]);
    for (const { tool, args: listed } of argLists) {
      expect(all.has(tool), `${tool} is a tool`).toBe(true);
      const top = Object.keys(all.get(tool)?.properties ?? {});
      for (const a of listed) expect(top, `${tool} has the argument ${a}`).toContain(a);
    }
  });

  it('tells how to reach every tool the default set lacks', () => {
    const named = [...namedIn(body).tokens].filter((t) => all.has(t));
    const reachable = withToolsets.get(name) as Listing;
    for (const tool of named.filter((t) => !defaults.has(t))) {
      expect(reachable.has(tool), `${tool}: not in the default set nor in the toolsets ${name} declares`).toBe(true);
    }
    // Each toolset that brings a named tool the default set lacks is named in the text, so the reader can enable it.
    for (const ts of declaredToolsets(name)) {
      const brings = named.some((t) => !defaults.has(t) && reachable.has(t));
      const needed = brings && !namesDefaultToolset(ts);
      if (needed) expect(body, `${name} tells the reader to enable the ${ts} toolset`).toContain(ts);
    }
  });

  it('has a worked example whose steps name existing tools and arguments', () => {
    const examples = workedExamples(name);
    expect(examples.length).toBeGreaterThan(0);
    for (const step of examples.flat()) {
      expect(all.has(step.tool), step.tool).toBe(true);
      const top = Object.keys(all.get(step.tool)?.properties ?? {});
      for (const a of Object.keys(step.arguments)) expect(top, `${step.tool} has ${a}`).toContain(a);
    }
  });
});

describe('worked examples run against --simulate', () => {
  let mcp: McpSession;
  beforeAll(async () => {
    mcp = await connectStdio('modern', { args: ['--simulate', '--toolsets', 'all'] });
  }, 60_000);
  afterAll(async () => {
    await mcp?.close();
  });

  const fill = (value: unknown, vars: Record<string, unknown>): unknown => {
    if (typeof value === 'string') {
      const whole = /^\{\{(\w+)\}\}$/.exec(value);
      if (whole) return vars[whole[1] as string];
      return value.replace(/\{\{(\w+)\}\}/g, (_, k: string) => String(vars[k]));
    }
    if (Array.isArray(value)) return value.map((v) => fill(v, vars));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
    }
    return value;
  };
  const field = (obj: unknown, path: string): unknown =>
    path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);

  async function run(step: ExampleStep, vars: Record<string, unknown>) {
    let args = fill(step.arguments, vars) as Record<string, unknown>;
    for (let attempt = 0; attempt < 60; attempt++) {
      const res = await mcp.call(step.tool, args);
      expect(res.isError, `${step.tool}: ${text(res)}`).toBeFalsy();
      const answer = res.structuredContent ?? {};
      if (!step.until || field(answer, step.until.field) === step.until.equals) return answer;
      const cursor = field(answer, 'cursor');
      if (typeof cursor === 'string') args = { ...args, after: cursor };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${step.tool}: ${step.until?.field} never became ${JSON.stringify(step.until?.equals)}`);
  }

  it.each(SKILLS)(
    '%s',
    async (name) => {
      for (const example of workedExamples(name)) {
        const vars: Record<string, unknown> = {};
        for (const step of example) {
          const answer = await run(step, vars);
          for (const [k, path] of Object.entries(step.save ?? {})) {
            vars[k] = field(answer, path);
            expect(vars[k], `${step.tool} answered ${path}`).toBeDefined();
          }
        }
      }
    },
    120_000,
  );
});
