/**
 * `kernel-mcp simulator` runs the simulator alone: it prints its base URL, answers Kernel API calls, stops on SIGTERM;
 * a taken port is one line naming it and `--port`; ids are new each run unless `--simulator-seed` pins them.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertBuilt, CLI } from './helpers/mcp.js';

/** Spawns `kernel-mcp simulator ...args` and resolves with its base URL once it prints it. */
async function startSimulatorCli(args: string[]): Promise<{ url: string; child: ChildProcessWithoutNullStreams }> {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, 'simulator', '--port', '0', ...args]);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { url, child };
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  return code as number | null;
}

async function createBrowser(url: string, key: string): Promise<string> {
  const created = await fetch(`${url}/browsers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ headless: true }),
  });
  expect(created.status).toBe(200);
  return ((await created.json()) as { session_id: string }).session_id;
}

describe('kernel-mcp simulator', () => {
  it('prints its URL, serves the Kernel API, and stops on SIGTERM', async () => {
    const { url, child } = await startSimulatorCli(['--api-key', 'sk_sim_cli_test_key']);
    const denied = await fetch(`${url}/browsers`, { headers: { authorization: 'Bearer wrong-key' } });
    expect(denied.status).toBe(401);
    const id = await createBrowser(url, 'sk_sim_cli_test_key');
    const listed = await fetch(`${url}/browsers`, { headers: { authorization: 'Bearer sk_sim_cli_test_key' } });
    expect(((await listed.json()) as { session_id: string }[]).map((b) => b.session_id)).toContain(id);
    expect(await stop(child)).toBe(0);
  });

  it('a taken port is one line naming the port and --port', async () => {
    assertBuilt();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const res = spawnSync(process.execPath, [CLI, 'simulator', '--port', String(port)], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(res.status).not.toBe(0);
      expect(res.stdout).toBe('');
      expect(res.stderr.trimEnd().split('\n')).toEqual([
        `kernel-mcp: port ${port} on 127.0.0.1 is already in use: pick another with --port`,
      ]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('ids are new each run, and repeat with --simulator-seed', async () => {
    const ids: string[] = [];
    for (const args of [[], [], ['--simulator-seed', '99'], ['--simulator-seed', '99']]) {
      const { url, child } = await startSimulatorCli(args);
      ids.push(await createBrowser(url, 'any-key'));
      expect(await stop(child)).toBe(0);
    }
    const [a, b, c, d] = ids;
    expect(a).not.toBe(b);
    expect(c).toBe(d);
    expect([a, b]).not.toContain(c);
  });
});
