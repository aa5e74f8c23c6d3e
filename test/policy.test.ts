/**
 * scripts/policy.ts, the one place for per-operation policy: it fits the spec (generation fails on an entry for an
 * unknown operation, field, parameter, toolset or parent, naming it), and the rows carry what it says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkPolicy, checkSynonyms, type PolicyModule, type Spec } from '../scripts/lib/policy-check.js';
import * as policy from '../scripts/policy.js';
import { operations, SEARCH_SYNONYMS } from '../src/generated/kernel-operations.gen.js';
import { redact } from '../src/redact.js';
import { compile } from '../src/tools/define.js';
import { buildRequest, operationTools } from '../src/tools/operations.js';
import { connectStdio, type McpSession, ROOT, text } from './helpers/mcp.js';

const spec = parse(readFileSync(join(ROOT, 'spec/kernel-openapi.yml'), 'utf8')) as Spec;

/** The real policy with one change. */
function withChange(change: (p: PolicyModule) => void): PolicyModule {
  const copy = structuredClone({
    TOOLSETS: policy.TOOLSETS,
    DEFAULT_TOOLSETS: policy.DEFAULT_TOOLSETS,
    PARENTS: policy.PARENTS,
    OPERATIONS: policy.OPERATIONS,
    SEARCH_SYNONYMS: policy.SEARCH_SYNONYMS,
    FIELD_DESCRIPTIONS: policy.FIELD_DESCRIPTIONS,
  }) as PolicyModule;
  change(copy);
  return copy;
}

describe('scripts/policy.ts against the spec', () => {
  it('holds as checked in', () => {
    expect(checkPolicy(spec, policy)).toEqual([]);
    const texts = operations.flatMap((r) => [r.name, r.title, r.toolset, r.description]);
    expect(checkSynonyms(policy.SEARCH_SYNONYMS, texts)).toEqual([]);
  });

  it.each<[string, (p: PolicyModule) => void, string]>([
    [
      'an unknown operation',
      (p) => {
        p.OPERATIONS.postBrowserz = { listChanging: true };
      },
      'scripts/policy.ts OPERATIONS.postBrowserz: no operation postBrowserz in spec/kernel-openapi.yml',
    ],
    [
      'an unknown secret field',
      (p) => {
        p.OPERATIONS.postProxies!.secrets = ['config.passwd'];
      },
      'OPERATIONS.postProxies.secrets: "config.passwd" is not a request field of postProxies',
    ],
    [
      'a field named like a secret that no entry lists',
      (p) => {
        p.OPERATIONS.patchCredentialByIdOrName!.secrets = ['values'];
      },
      'patchCredentialByIdOrName: request field "totp_secret" is named like a secret',
    ],
    [
      'a read-only mark on a GET',
      (p) => {
        p.OPERATIONS.getBrowsers = { readOnly: true };
      },
      'OPERATIONS.getBrowsers.readOnly: only a POST needs it (GET)',
    ],
    [
      'a default-set exclusion outside the default toolsets',
      (p) => {
        p.OPERATIONS.getApps = { notDefault: true };
      },
      'OPERATIONS.getApps.notDefault: its toolset "apps" is not in DEFAULT_TOOLSETS',
    ],
    [
      'an unknown default toolset',
      (p) => {
        p.DEFAULT_TOOLSETS = [...p.DEFAULT_TOOLSETS, 'browser'];
      },
      'DEFAULT_TOOLSETS: "browser" is not a toolset of TOOLSETS',
    ],
    [
      'a stream URI whose variables are not the path parameters',
      (p) => {
        p.OPERATIONS.processStdoutStream!.stream!.uri = 'kernel://browsers/{id}/processes/{pid}/output';
      },
      'OPERATIONS.processStdoutStream.stream.uri: variables {id}, {pid} are not the path parameters',
    ],
    [
      'a stream URI query parameter the operation lacks',
      (p) => {
        p.OPERATIONS.logsStream!.stream!.uri = 'kernel://browsers/{id}/logs{?source,file}';
      },
      'OPERATIONS.logsStream.stream.uri: "file" is not a query parameter of logsStream',
    ],
    [
      'a stream on an operation that is not an event stream',
      (p) => {
        p.OPERATIONS.getBrowsersById = { stream: { ...p.OPERATIONS.streamBrowserTelemetry!.stream!, resource: 'x' } };
      },
      'OPERATIONS.getBrowsersById.stream: getBrowsersById does not answer text/event-stream',
    ],
    [
      'an unknown parent id field',
      (p) => {
        p.PARENTS.browsers!.idField = 'id';
      },
      'PARENTS.browsers.idField: listed items have no field "id"',
    ],
    [
      'a live value the parent field cannot take',
      (p) => {
        p.PARENTS.invocations!.live = { query: 'status', values: ['running', 'waiting'] };
      },
      'PARENTS.invocations.live.values: "waiting" is not one of queued, running, succeeded, failed',
    ],
    [
      'a field description for an unknown schema',
      (p) => {
        p.FIELD_DESCRIPTIONS['BrowserProfil.id'] = 'Profile ID.';
      },
      "FIELD_DESCRIPTIONS['BrowserProfil.id']: no schema BrowserProfil in components.schemas",
    ],
    [
      'a field description for an unknown property',
      (p) => {
        p.FIELD_DESCRIPTIONS['BrowserProfile.ids'] = 'Profile ID.';
      },
      `FIELD_DESCRIPTIONS['BrowserProfile.ids']: BrowserProfile has no property "ids" (properties: id, name, save_changes)`,
    ],
    [
      'an empty field description',
      (p) => {
        p.FIELD_DESCRIPTIONS['BrowserProfile.id'] = ' ';
      },
      "FIELD_DESCRIPTIONS['BrowserProfile.id']: empty",
    ],
  ])('fails on %s, naming the entry', (_what, change, message) => {
    const problems = checkPolicy(spec, withChange(change));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('fails on a search synonym no operation mentions', () => {
    const problems = checkSynonyms({ ...policy.SEARCH_SYNONYMS, open: ['create', 'opne'] }, ['browsers_create']);
    expect(problems).toContain('scripts/policy.ts SEARCH_SYNONYMS.open: no operation mentions "opne"');
  });
});

describe('the rows carry the policy', () => {
  const byId = new Map(operations.map((r) => [r.operationId, r]));

  it('names, annotations, list changes, default set, streams and synonyms', () => {
    for (const [id, p] of Object.entries(policy.OPERATIONS)) {
      const row = byId.get(id)!;
      if (p.name) expect(row.name).toBe(p.name);
      if (p.readOnly) expect(row.annotations.readOnlyHint).toBe(true);
      if (p.destructive) expect(row.annotations.destructiveHint).toBe(true);
      expect(row.listChanging ?? false, id).toBe(p.listChanging ?? false);
      expect(row.secrets ?? [], id).toEqual(p.secrets ?? []);
      expect(row.stream?.name, id).toBe(p.stream?.resource);
      expect(row.screen, id).toBe(p.screen);
      expect(row.shape, id).toBe(p.shape);
      expect(row.stream?.filter, id).toBe(p.stream?.filter);
    }
    for (const row of operations) {
      const inDefaultToolset = policy.DEFAULT_TOOLSETS.includes(row.toolset);
      expect(row.inDefaultSet, row.name).toBe(
        inDefaultToolset ? !policy.OPERATIONS[row.operationId]?.notDefault : undefined,
      );
      if (row.stream) expect(row.answer.kind).toBe('stream');
    }
    expect(SEARCH_SYNONYMS).toEqual(policy.SEARCH_SYNONYMS);
  });

  it("the reviewed field descriptions replace the spec's in every tool that inlines the schema", () => {
    const published = operationTools.map((t) => JSON.stringify(compile(t).json));
    for (const [key, text] of Object.entries(policy.FIELD_DESCRIPTIONS)) {
      expect(
        published.some((s) => s.includes(JSON.stringify(text))),
        key,
      ).toBe(true);
    }
    // Where the spec's text went: none of it is left in the tools that take these schemas.
    const create = JSON.stringify(compile(operationTools.find((t) => t.name === 'browsers_create')!).json);
    expect(create).not.toContain('Profile selection for the browser session');
    expect(create).toContain(JSON.stringify(policy.FIELD_DESCRIPTIONS['BrowserProfile.save_changes']));
  });

  it('registers every secret field with the redactor before a request, and nothing else', async () => {
    /** Arguments with a distinct value at `path` (an object of values where the spec has one). */
    const argsAt = (path: string, value: string) => {
      const args: Record<string, unknown> = { id: 'b1', id_or_name: 'c1', invocation_id: 'i1' };
      const parts = path.split('.');
      let node = args;
      for (const part of parts.slice(0, -1)) {
        const child: Record<string, unknown> = {};
        node[part] = child;
        node = child;
      }
      const last = parts.at(-1)!;
      node[last] = ['values', 'fields', 'field_values'].includes(last) ? { password: value } : value;
      return args;
    };
    const rows = operations.filter((r) => r.secrets?.length);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      for (const path of row.secrets!) {
        const value = `secret-${row.operationId}-${path}`;
        expect(redact(value)).toBe(value);
        await buildRequest(row, argsAt(path, value), false);
        expect(redact(`got ${value}`), `${row.operationId} ${path}`).toBe('got [redacted]');
      }
    }
    // Playwright source is not a secret (it would hide the code an agent wrote from its own results).
    const code = 'return await page.title(); // policy test';
    await buildRequest(byId.get('executePlaywrightCode')!, { id: 'b1', code }, false);
    expect(redact(code)).toBe(code);
  });
});

describe('list changes follow the per-operation policy', () => {
  let mcp: McpSession | undefined;
  afterEach(async () => {
    await mcp?.close();
    mcp = undefined;
  });

  // The deprecated agents-auth routes start login flows on auth connections (listed while IN_PROGRESS); a per-toolset
  // rule (browsers, pools, invocations, deployments, managed_auth) never announced them.
  it('announces a login flow started through the deprecated agents-auth route', async () => {
    mcp = await connectStdio('legacy', { args: ['--simulate', '--toolsets', 'all', '--include-deprecated'] });
    let changes = 0;
    let heard: (() => void) | undefined;
    const client = mcp.client as unknown as { setNotificationHandler(s: unknown, fn: () => Promise<void>): void };
    client.setNotificationHandler(ResourceListChangedNotificationSchema, async () => {
      changes++;
      heard?.();
    });
    const connection = await mcp.call('auth_connections_create', { domain: 'example.com', profile_name: 'policy' });
    expect(connection.isError, text(connection)).toBeFalsy();
    const id = (connection.structuredContent as { id: string }).id;

    const announced = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no list_changed (heard ${changes})`)), 15_000);
      heard = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const flow = await mcp.call('agents_auth_invocations_create', { auth_agent_id: id });
    expect(flow.isError, text(flow)).toBeFalsy();
    await announced;
    const { resources } = await mcp.client.listResources();
    expect(resources.map((r) => r.uri)).toContain(`kernel://auth/connections/${id}/events`);
  });
});
