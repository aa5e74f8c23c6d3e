/**
 * The simulator declares its request schemas in TypeScript (it ships without a YAML parser). This diffs its
 * route table — operations, body kinds, JSON body schemas, query and path parameters — against the spec, so a
 * transcription error or a spec change fails here.
 */
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../simulator/routes.js';
import { PROXY_CONFIG_SCHEMAS } from '../../simulator/schemas.js';
import { deref, type Json, loadSpec, specOperations } from '../helpers/simulator-spec.js';

const KEEP = [
  'type',
  'enum',
  'const',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'nullable',
] as const;

/**
 * Canonical form shared by the spec and the simulator: `$ref` (with sibling keywords) and `allOf` merged,
 * `oneOf` branches that only require fields turned into `oneOfRequired`, annotations dropped.
 */
function canon(input: Json): Json {
  let s = input;
  if (s?.$ref) {
    const { $ref, ...siblings } = s;
    s = { ...deref({ $ref }), ...siblings };
  }
  if (s.allOf) {
    const parts = [canon({ ...s, allOf: undefined }), ...s.allOf.map(canon)];
    const merged: Json = {};
    for (const p of parts) {
      for (const [k, v] of Object.entries<Json>(p)) {
        if (k === 'properties') merged.properties = { ...merged.properties, ...v };
        else if (k === 'required') merged.required = [...new Set([...(merged.required ?? []), ...v])].sort();
        else if (k === 'additionalProperties')
          merged.additionalProperties = merged.additionalProperties === false ? false : v;
        else merged[k] = v;
      }
    }
    return merged;
  }
  const out: Json = {};
  for (const k of KEEP) if (s[k] !== undefined && !(k === 'nullable' && s[k] === false)) out[k] = s[k];
  if (s.format === 'uri' || s.format === 'uuid') out.format = s.format;
  const properties: Json = { ...s.properties };
  if (Array.isArray(s.oneOf)) {
    if (s.oneOf.every((b: Json) => b.required && !b.$ref && !b.type)) {
      out.oneOfRequired = s.oneOf.map((b: Json) => [...b.required].sort());
      for (const b of s.oneOf) Object.assign(properties, b.properties);
    } else out.oneOf = s.oneOf.map(canon);
  }
  if (Array.isArray(s.oneOfRequired)) out.oneOfRequired = s.oneOfRequired;
  if (Object.keys(properties).length > 0) {
    out.properties = Object.fromEntries(Object.entries<Json>(properties).map(([k, v]) => [k, canon(v)]));
  }
  if (s.required?.length) out.required = [...s.required].sort();
  if (s.items) out.items = canon(s.items);
  if (s.additionalProperties === false) out.additionalProperties = false;
  else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    out.additionalProperties = canon(s.additionalProperties);
  }
  if (out.oneOfRequired) {
    // The simulator also writes these as arrays of sorted field names.
    out.oneOfRequired = out.oneOfRequired.map((r: string[]) => [...r].sort());
  }
  return out;
}

const bodyKind = (op: Json): string | undefined => {
  const content = op.requestBody?.content;
  if (!content) return undefined;
  if (content['application/json']) return 'json';
  if (content['application/octet-stream']) return 'octet';
  if (content['multipart/form-data']) return 'multipart';
  return 'other';
};

describe('route table vs spec', () => {
  const routes = new Map(ROUTES.map((r) => [r.operationId, r]));

  it('has exactly one route per spec operation, with the same method and path', () => {
    const ops = specOperations();
    expect(ROUTES).toHaveLength(ops.length);
    for (const o of ops) {
      const r = routes.get(o.operationId);
      expect(r, o.operationId).toBeDefined();
      expect(`${r?.method} ${r?.path}`, o.operationId).toBe(`${o.method} ${o.path}`);
    }
  });

  for (const o of specOperations()) {
    it(`${o.operationId}: body, query and path parameters match`, () => {
      const r = routes.get(o.operationId);
      expect(r?.body?.kind).toBe(bodyKind(o.op));
      if (r?.body?.kind === 'json') {
        expect(r.body.required, 'requestBody.required').toBe(o.op.requestBody.required === true);
        const spec = canon(o.op.requestBody.content['application/json'].schema);
        if (o.operationId === 'postProxies') {
          // Quirk: config is a oneOf of per-type configs that cannot be told apart; the simulator accepts an
          // object here and validates it against the config schema of `type` (checked below).
          expect(spec.properties.config.oneOf).toHaveLength(5);
          spec.properties.config = { type: 'object' };
        }
        expect(canon(r.body.schema)).toEqual(spec);
      }
      const specQuery = Object.fromEntries(
        (o.op.parameters ?? [])
          .filter((p: Json) => p.in === 'query')
          .map((p: Json) => [p.name, { schema: canon(p.schema), required: p.required === true }]),
      );
      const mine = Object.fromEntries(
        Object.entries(r?.query ?? {}).map(([name, p]) => [
          name,
          { schema: canon(p.schema), required: p.required === true },
        ]),
      );
      expect(mine).toEqual(specQuery);
      const specPathFormats = Object.fromEntries(
        (o.op.parameters ?? [])
          .filter((p: Json) => p.in === 'path' && p.schema?.format)
          .map((p: Json) => [p.name, canon(p.schema)]),
      );
      const minePath = Object.fromEntries(Object.entries(r?.pathParams ?? {}).map(([k, v]) => [k, canon(v)]));
      expect(minePath).toEqual(specPathFormats);
      const hasPathId = o.path.includes('{');
      expect(r?.no404 === true, 'no404').toBe(hasPathId && !('404' in o.op.responses));
    });
  }

  it('validates proxy configs with the per-type schemas of the spec', () => {
    const schemas = loadSpec().components.schemas;
    const specNames = {
      datacenter: 'DatacenterProxyConfig',
      isp: 'IspProxyConfig',
      residential: 'ResidentialProxyConfig',
      mobile: 'MobileProxyConfig',
      custom: 'CreateCustomProxyConfig',
    } as const;
    for (const [type, name] of Object.entries(specNames)) {
      expect(canon(PROXY_CONFIG_SCHEMAS[type as keyof typeof specNames]), type).toEqual(canon(schemas[name]));
    }
  });

  it('only the handoff-code exchanges skip the bearer check; agent invocation reads also take exchanged JWTs', () => {
    expect(
      ROUTES.filter((r) => r.auth === 'public')
        .map((r) => r.operationId)
        .sort(),
    ).toEqual(['postAgentsAuthInvocationsExchange', 'postAuthConnectionsExchange']);
    expect(
      ROUTES.filter((r) => r.auth === 'jwt')
        .map((r) => r.operationId)
        .sort(),
    ).toEqual(['getAgentsAuthInvocationsInvocationId', 'postAgentsAuthInvocationsSubmit']);
  });
});
