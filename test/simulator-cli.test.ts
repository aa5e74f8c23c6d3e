/** `kernel-mcp simulator` runs the simulator alone: it prints its base URL, answers Kernel API calls, stops on SIGTERM. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { assertBuilt, CLI } from './helpers/mcp.js';

describe('kernel-mcp simulator', () => {
  it('prints its URL, serves the Kernel API, and stops on SIGTERM', async () => {
    assertBuilt();
    const child = spawn(process.execPath, [CLI, 'simulator', '--port', '0', '--api-key', 'sk_sim_cli_test_key'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const denied = await fetch(`${url}/browsers`, { headers: { authorization: 'Bearer wrong-key' } });
    expect(denied.status).toBe(401);
    const created = await fetch(`${url}/browsers`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_sim_cli_test_key', 'content-type': 'application/json' },
      body: JSON.stringify({ headless: true }),
    });
    expect(created.status).toBe(200);
    const browser = (await created.json()) as { session_id: string };
    const listed = await fetch(`${url}/browsers`, { headers: { authorization: 'Bearer sk_sim_cli_test_key' } });
    expect(((await listed.json()) as { session_id: string }[]).map((b) => b.session_id)).toContain(browser.session_id);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
