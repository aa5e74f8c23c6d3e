/**
 * Errors a client can show, and a server log that says why: every refused request to the MCP endpoint (401, 403,
 * 413, 503) is logged at info with its reason and the client's address (never the token), and a 401's
 * `WWW-Authenticate` challenge carries an `error_description` that says what to send.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSimulatorBehindHttp } from './helpers/fixtures.js';
import { connectHttp, INITIALIZE, legacyPost } from './helpers/http.js';
import { ERAS, type McpSession } from './helpers/mcp.js';
import { waitFor } from './helpers/simulator-client.js';

const TOKEN = 'tok_http_refusals_0123456789abcdef';
const WRONG = 'tok_wrong_one_9876543210fedcba';
const KEY = 'sk_http_refusals_server_key_0123456789';

describe('refused HTTP requests', () => {
  const fixture = useSimulatorBehindHttp({
    key: KEY,
    token: TOKEN,
    args: ['--max-body-bytes', '4096', '--max-concurrent-requests', '1', '--timeout-ms', '2000', '--max-retries', '0'],
  });
  /** The log line of the next refusal with this status, once it is written. */
  async function refusalLogged(status: number, after: number): Promise<string> {
    return waitFor(() =>
      fixture.srv
        .stderr()
        .slice(after)
        .split('\n')
        .find((l) => l.startsWith('kernel-mcp info: refused ') && l.includes(` with ${status}: `)),
    );
  }
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('401 without a token: a challenge that says what to send, and an info line with the client address', async () => {
    const from = fixture.srv.stderr().length;
    const res = await legacyPost(fixture.srv.url, INITIALIZE);
    expect(res.status).toBe(401);
    const challenge = String(res.headers['www-authenticate']);
    expect(challenge).toMatch(/^Bearer realm="kernel-mcp", error_description="[^"]*KERNEL_MCP_HTTP_TOKEN[^"]*"$/);
    expect(challenge).not.toContain('error=');
    const line = await refusalLogged(401, from);
    expect(line).toContain(
      'refused POST /mcp with 401: Unauthorized: send `Authorization: Bearer <KERNEL_MCP_HTTP_TOKEN>`',
    );
    expect(line).toMatch(/"client":"127\.0\.0\.1:\d+"/);
  });

  it('401 with a wrong token: invalid_token with a description, logged without the token', async () => {
    const from = fixture.srv.stderr().length;
    const res = await legacyPost(fixture.srv.url, INITIALIZE, { authorization: `Bearer ${WRONG}` });
    expect(res.status).toBe(401);
    expect(String(res.headers['www-authenticate'])).toMatch(
      /^Bearer realm="kernel-mcp", error="invalid_token", error_description="The bearer token is not valid: [^"]+"$/,
    );
    const line = await refusalLogged(401, from);
    expect(line).toContain('the bearer token is not valid');
    expect(fixture.srv.stderr()).not.toContain(WRONG);
    expect(fixture.srv.stderr()).not.toContain(TOKEN);
  });

  it.each(ERAS)('a %s client with a wrong token fails with the reason, not only "failed to connect"', async (era) => {
    const from = fixture.srv.stderr().length;
    await expect(connectHttp(era, fixture.srv.url, { token: WRONG })).rejects.toThrow(/401|[Uu]nauthorized/);
    await refusalLogged(401, from);
  });

  it('403 for a foreign Host or Origin, logged with what was refused', async () => {
    let from = fixture.srv.stderr().length;
    const host = `evil.example:${fixture.srv.port}`;
    expect((await legacyPost(fixture.srv.url, INITIALIZE, { ...auth, host })).status).toBe(403);
    expect(await refusalLogged(403, from)).toMatch(/Host header is not allowed.*"host":"evil\.example:\d+"/);
    from = fixture.srv.stderr().length;
    const origin = 'https://evil.example';
    expect((await legacyPost(fixture.srv.url, INITIALIZE, { ...auth, origin })).status).toBe(403);
    expect(await refusalLogged(403, from)).toMatch(/Origin is not allowed.*"origin":"https:\/\/evil\.example"/);
  });

  it('413 for a body over --max-body-bytes', async () => {
    const from = fixture.srv.stderr().length;
    const big = { id: 9, method: 'tools/list', params: { _meta: { pad: 'x'.repeat(8000) } } };
    expect((await legacyPost(fixture.srv.url, big, auth)).status).toBe(413);
    expect(await refusalLogged(413, from)).toContain('Payload Too Large');
  });

  describe('503 while every request slot is taken', () => {
    let busy: McpSession;
    beforeAll(async () => {
      busy = await connectHttp('modern', fixture.srv.url, { token: TOKEN });
    });
    afterAll(async () => {
      await busy?.close();
    });

    it('answers 503 and logs it', async () => {
      fixture.sim.resetRequests();
      fixture.sim.setFaults({ hangNext: { method: 'GET', pathPrefix: '/browsers/', count: 1 } });
      // One call holds the only slot while the simulator does not answer it.
      const held = busy.call('browsers_retrieve', { id: 'held-open' });
      await waitFor(() => fixture.sim.requests.some((r) => r.path.startsWith('/browsers/held-open')));
      const from = fixture.srv.stderr().length;
      const res = await legacyPost(fixture.srv.url, INITIALIZE, auth);
      expect(res.status).toBe(503);
      expect(await refusalLogged(503, from)).toContain('too many concurrent requests');
      // The held call ends with the API timeout, as an error result.
      expect((await held).isError).toBe(true);
      fixture.sim.setFaults({});
    });
  });
});
