/**
 * The simulator validates requests against the spec's own schemas (generated/requests.gen.ts, written from
 * spec/kernel-openapi.yml by scripts/generate-simulator.ts). This checks that data against the spec, and the
 * hand-written route table — operations, methods, paths, 404 behaviour, auth — against the spec too.
 */
import { describe, expect, it } from 'vitest';
import { requestSpec } from '../../scripts/generate-simulator.js';
import { COMPONENTS, OPERATIONS } from '../../simulator/generated/requests.gen.js';
import { CONFIG_SCHEMAS } from '../../simulator/proxies.js';
import { ROUTES } from '../../simulator/routes.js';
import { type Json, loadSpec, specOperations } from '../helpers/simulator-spec.js';

describe('route table vs spec', () => {
  const routes = new Map(ROUTES.map((r) => [r.operationId, r]));

  it('validates against request schemas that are exactly what the spec gives', () => {
    expect({ operations: OPERATIONS, components: COMPONENTS }).toEqual(requestSpec(loadSpec()));
  });

  it('has exactly one route per spec operation, with the same method and path', () => {
    const ops = specOperations();
    expect(ROUTES).toHaveLength(ops.length);
    for (const o of ops) {
      const r = routes.get(o.operationId);
      expect(r, o.operationId).toBeDefined();
      expect(`${r?.method} ${r?.path}`, o.operationId).toBe(`${o.method} ${o.path}`);
      const hasPathId = o.path.includes('{');
      expect(r?.no404 === true, `${o.operationId} no404`).toBe(hasPathId && !('404' in o.op.responses));
    }
  });

  it('checks a proxy config against the spec schema of its type', () => {
    const create = loadSpec().components.schemas.ProxyCreateRequest;
    expect(Object.keys(CONFIG_SCHEMAS)).toEqual(create.properties.type.enum);
    expect(Object.values(CONFIG_SCHEMAS).map((n) => `#/components/schemas/${n}`)).toEqual(
      create.properties.config.oneOf.map((b: Json) => b.$ref),
    );
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
