/** The simulator's shell: for and while loops, and `>&2` (stdout to stderr). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { request } from '../helpers/simulator-client.js';

let sim: Simulator;
let id: string;
beforeAll(async () => {
  sim = await startSimulator();
  id = (await request(sim.url, 'POST', '/browsers', { json: {} })).json.session_id;
});
afterAll(async () => {
  await sim.close();
});

async function sh(script: string): Promise<{ exit: number; out: string; err: string }> {
  const a = await request(sim.url, 'POST', `/browsers/${id}/process/exec`, {
    json: { command: 'sh', args: ['-c', script] },
  });
  expect(a.status, a.text).toBe(200);
  return {
    exit: a.json.exit_code,
    out: Buffer.from(a.json.stdout_b64, 'base64').toString(),
    err: Buffer.from(a.json.stderr_b64, 'base64').toString(),
  };
}

describe('simulator shell', () => {
  it('runs for loops, on one line or several, nested, with redirections after done', async () => {
    expect(await sh('for i in 1 2 3; do echo "n=$i"; done')).toEqual({ exit: 0, out: 'n=1\nn=2\nn=3\n', err: '' });
    expect((await sh('for f in a b\ndo\n  echo $f\ndone')).out).toBe('a\nb\n');
    expect((await sh('for a in x y; do for b in 1 2; do echo $a$b; done; done')).out).toBe('x1\nx2\ny1\ny2\n');
    await sh('for i in 1 2; do echo line$i; done > /tmp/loop.txt');
    expect((await sh('cat /tmp/loop.txt')).out).toBe('line1\nline2\n');
  });

  it('runs while loops until the condition fails', async () => {
    await sh('echo go > /tmp/flag');
    const r = await sh('while cat /tmp/flag; do echo tick; rm /tmp/flag; done; echo end');
    expect(r).toMatchObject({ exit: 0, out: 'go\ntick\nend\n' });
    // The condition's last run failed: the file is gone.
    expect(r.err).toContain('/tmp/flag');
    expect((await sh('while false; do echo never; done; echo after')).out).toBe('after\n');
  });

  it('sends stdout to stderr with >&2 and 1>&2', async () => {
    expect(await sh('echo out; echo err >&2; echo err2 1>&2')).toEqual({ exit: 0, out: 'out\n', err: 'err\nerr2\n' });
  });

  it('reports a loop without done as a syntax error', async () => {
    const r = await sh('for i in 1 2; do echo $i');
    expect(r.exit).toBe(2);
    expect(r.err).toContain("'for' without 'done'");
  });
});
