/**
 * Error answers: 401 (missing / wrong bearer), 404 for unknown ids, 400 for invalid bodies and parameters —
 * derived from the spec: for every JSON request body, each required field is omitted, each typed field gets a
 * wrong type, each enum a bad value and each closed object an unknown field; every answer must be a declared
 * status with the spec's Error body and a message naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { type Answer, request } from '../helpers/simulator-client.js';
import { declaredResponse, deref, type Json, specOperations, validateAgainst } from '../helpers/simulator-spec.js';
import { checkAnswer, pathFor } from '../helpers/simulator-tour.js';

let sim: Simulator;
let keyed: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ eventIntervalMs: 5 });
  keyed = await startSimulator({ apiKey: 'the-key' });
});
afterAll(async () => {
  await Promise.all([sim.close(), keyed.close()]);
});

const UUID = '123e4567-e89b-42d3-a456-426614174000';
const dummyParams = (path: string): Record<string, string> =>
  Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1] ?? '', m[1] === 'process_id' ? UUID : 'x']));

/** Flattens allOf and sibling $refs so the top-level properties/required/additionalProperties are visible. */
function flatten(schema: Json): Json {
  const { $ref, allOf, ...rest } = schema;
  let out: Json = $ref ? { ...flatten(deref({ $ref })), ...rest } : { ...rest };
  for (const part of allOf ?? []) {
    const p = flatten(part);
    out = {
      ...out,
      ...p,
      properties: { ...out.properties, ...p.properties },
      required: [...(out.required ?? []), ...(p.required ?? [])],
      additionalProperties: out.additionalProperties === false ? false : p.additionalProperties,
    };
  }
  for (const branch of out.oneOf ?? []) out.properties = { ...out.properties, ...branch.properties };
  return out;
}

const WRONG: Record<string, unknown> = {
  string: 12345,
  integer: 'text',
  number: 'text',
  boolean: 'yes',
  array: {},
  object: [],
};

interface BodyCase {
  name: string;
  body: unknown;
  mentions: string;
}

function bodyCases(schema: Json): BodyCase[] {
  const s = flatten(schema);
  const cases: BodyCase[] = [];
  for (const field of s.required ?? [])
    cases.push({ name: `missing ${field}`, body: {}, mentions: `${field} is required` });
  for (const [field, raw] of Object.entries<Json>(s.properties ?? {})) {
    const prop = flatten(raw);
    if (typeof prop.type === 'string' && WRONG[prop.type] !== undefined) {
      cases.push({ name: `${field} wrong type`, body: { [field]: WRONG[prop.type] }, mentions: `${field} must be` });
    }
    if (Array.isArray(prop.enum)) {
      cases.push({ name: `${field} bad enum`, body: { [field]: 'not-a-member' }, mentions: `${field} must be one of` });
    }
  }
  if (s.additionalProperties === false) {
    cases.push({ name: 'unknown field', body: { zz_unknown: 1 }, mentions: 'zz_unknown is not a recognized field' });
  }
  return cases;
}

const jsonBodyOps = specOperations().filter((o) => o.op.requestBody?.content?.['application/json']);

/**
 * Spec gap: these operations constrain their query parameters (limits, enums, booleans) but declare no 400.
 * The simulator still answers invalid values with 400 and the spec's Error body, like every other operation.
 */
const UNDECLARED_400 = new Set([
  'getBrowsers',
  'getBrowsersById',
  'getApps',
  'getAuthConnections',
  'getAgentsAuth',
  'getCredentials',
  'getProjects',
  'getOrgProjects',
  'listApiKeys',
]);

function expectError(a: Answer, operationId: string, status: number, mentions: string): void {
  expect(a.status, `${operationId}: ${a.text}`).toBe(status);
  if (status === 400 && UNDECLARED_400.has(operationId)) {
    expect(declaredResponse(operationId, 400)).toBeUndefined();
    expect(validateAgainst({ $ref: '#/components/schemas/Error' }, a.json, 'Error')).toBeUndefined();
  } else checkAnswer(operationId, a);
  expect(a.json.message, operationId).toContain(mentions);
}

describe('request validation derived from the spec', () => {
  for (const o of jsonBodyOps) {
    const schema = o.op.requestBody.content['application/json'].schema;
    const cases = bodyCases(schema);
    if (cases.length === 0) continue;
    it(`${o.operationId}: ${cases.length} invalid bodies answer 400 naming the field`, async () => {
      const path = pathFor(o.operationId, dummyParams(o.path));
      for (const c of cases) {
        const a = await request(sim.url, o.method, path, { json: c.body });
        expect(a.status, `${o.operationId} ${c.name}: ${a.text}`).toBe(400);
        checkAnswer(o.operationId, a);
        expect(a.json.message, `${o.operationId} ${c.name}`).toContain(c.mentions);
        expect(a.json.details.length).toBeGreaterThan(0);
      }
    });
  }

  it('rejects required bodies that are missing, malformed JSON and the wrong content type', async () => {
    const id = (await request(sim.url, 'POST', '/browsers', { json: {} })).json.session_id;
    const path = `/browsers/${id}/computer/click_mouse`;
    expectError(await request(sim.url, 'POST', path), 'clickMouse', 400, 'request body is required');
    expectError(
      await request(sim.url, 'POST', path, { body: '{"x":', headers: { 'content-type': 'application/json' } }),
      'clickMouse',
      400,
      'invalid JSON body',
    );
    expectError(
      await request(sim.url, 'POST', path, { body: 'x=1', headers: { 'content-type': 'text/plain' } }),
      'clickMouse',
      400,
      'Content-Type must be application/json',
    );
  });

  it('validates nested fields, naming their path', async () => {
    const a = await request(sim.url, 'POST', '/browsers', {
      json: { viewport: { width: 100, height: 'tall' }, profile: { id: 'a', name: 'b' }, extensions: [{}] },
    });
    expectError(a, 'postBrowsers', 400, 'viewport.width must be >= 320');
    expect(a.json.message).toContain('viewport.height must be an integer');
    expect(a.json.message).toContain('profile must provide exactly one of: id, name');
    expect(a.json.message).toContain('extensions[0] must provide exactly one of: id, name');
  });

  it('validates query and path parameters', async () => {
    const id = (await request(sim.url, 'POST', '/browsers', { json: {} })).json.session_id;
    expectError(await request(sim.url, 'GET', `/browsers/${id}/fs/read_file`), 'readFile', 400, 'path');
    expectError(
      await request(sim.url, 'GET', `/browsers/${id}/fs/read_file`, { query: { path: 'relative' } }),
      'readFile',
      400,
      'path must match pattern',
    );
    expectError(
      await request(sim.url, 'GET', '/browsers', { query: { limit: 'ten' } }),
      'getBrowsers',
      400,
      'limit must be an integer',
    );
    expectError(
      await request(sim.url, 'GET', '/profiles', { query: { limit: 1000 } }),
      'getProfiles',
      400,
      'limit must be <= 100',
    );
    expectError(
      await request(sim.url, 'GET', '/browsers', { query: { status: 'zombie' } }),
      'getBrowsers',
      400,
      'status must be one of',
    );
    expectError(
      await request(sim.url, 'GET', `/browsers/${id}/logs/stream`, { query: { source: 'path' } }),
      'logsStream',
      400,
      'path is required',
    );
    expectError(
      await request(sim.url, 'GET', `/browsers/${id}/process/not-a-uuid/status`),
      'processStatus',
      400,
      'process_id must be a UUID',
    );
  });
});

describe('authentication', () => {
  it('answers 401 with an Error body without a bearer token', async () => {
    const a = await request(sim.url, 'GET', '/browsers', { token: null });
    expectError(a, 'getBrowsers', 401, 'Authorization');
    expect(a.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('accepts any bearer without apiKey, only the configured (or a created) key with one', async () => {
    expect((await request(sim.url, 'GET', '/browsers', { token: 'whatever' })).status).toBe(200);
    expectError(
      await request(keyed.url, 'GET', '/browsers', { token: 'wrong' }),
      'getBrowsers',
      401,
      'invalid API key',
    );
    expect((await request(keyed.url, 'GET', '/browsers', { token: 'the-key' })).status).toBe(200);
    const created = await request(keyed.url, 'POST', '/org/api_keys', { token: 'the-key', json: { name: 'extra' } });
    expect((await request(keyed.url, 'GET', '/profiles', { token: created.json.key })).status).toBe(200);
    await request(keyed.url, 'DELETE', `/org/api_keys/${created.json.id}`, { token: 'the-key' });
    expect((await request(keyed.url, 'GET', '/profiles', { token: created.json.key })).status).toBe(401);
  });

  it('requires the bearer on the proxy-pool mount point', async () => {
    const a = await request(keyed.url, 'POST', '/proxies.v1.Proxies/CreateSession', { token: 'wrong', json: {} });
    expect(a.status).toBe(401);
  });

  it('lets the handoff-code exchange endpoints through without a bearer', async () => {
    const a = await request(sim.url, 'POST', '/auth/connections/nope/exchange', { token: null, json: { code: 'c' } });
    expectError(a, 'postAuthConnectionsExchange', 404, "auth connection 'nope' not found");
  });
});

describe('unknown ids and routes', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['getBrowsersById', { id: 'missing' }],
    ['deleteBrowsersById', { id: 'missing' }],
    ['readFile', { id: 'missing' }],
    ['getProfileByIdOrName', { id_or_name: 'missing' }],
    ['getProxiesById', { id: 'missing' }],
    ['getExtensionByIdOrName', { id_or_name: 'missing' }],
    ['getBrowserPoolsByIdOrName', { id_or_name: 'missing' }],
    ['getDeploymentsById', { id: 'missing' }],
    ['getInvocationsById', { id: 'missing' }],
    ['getAuthConnectionsById', { id: 'missing' }],
    ['getAgentsAuthInvocationsInvocationId', { invocation_id: 'missing' }],
    ['getCredentialByIdOrName', { id_or_name: 'missing' }],
    ['getCredentialProvidersById', { id: 'missing' }],
    ['getOrgProjectsId', { id: 'missing' }],
    ['getApiKeysById', { id: 'missing' }],
  ];
  for (const [operationId, params] of cases) {
    it(`${operationId} answers 404 with the Error body`, async () => {
      const o = specOperations().find((x) => x.operationId === operationId);
      const query = operationId === 'readFile' ? { path: '/tmp' } : undefined;
      const a = await request(sim.url, o?.method ?? 'GET', pathFor(operationId, params), { query });
      expectError(a, operationId, 404, "'missing' not found");
    });
  }

  it('answers 400 where the spec declares no 404 (playwright execute, create_directory)', async () => {
    expectError(
      await request(sim.url, 'POST', '/browsers/missing/playwright/execute', { json: { code: 'return 1' } }),
      'executePlaywrightCode',
      400,
      "browser session 'missing' not found",
    );
    expectError(
      await request(sim.url, 'PUT', '/browsers/missing/fs/create_directory', { json: { path: '/tmp/x' } }),
      'createDirectory',
      400,
      'not found',
    );
  });

  it('answers 404 for unknown routes and 405 for wrong methods', async () => {
    const a = await request(sim.url, 'GET', '/nope');
    expect(a.status).toBe(404);
    expect(a.json).toEqual({ code: 'not_found', message: 'no route for GET /nope' });
    const b = await request(sim.url, 'PUT', '/browsers');
    expect(b.status).toBe(405);
    expect(b.headers.get('allow')).toContain('GET');
  });
});
