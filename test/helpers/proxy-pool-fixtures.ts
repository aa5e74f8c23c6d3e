/** The IDs of the seed's CreateSession example (base64 of 16 bytes), shared by the proxy-pool tests. */
export const WS = 'AY+MHnorfD2eTxorPE1ebw==';
export const POOL = 'AY+MISIifMyN3T09PT09PQ==';
export const PROVIDER = 'AY+MIBEReqqLuywsLCwsLA==';
export const SESSION_ID = 'AY+MIjMzfu6P/05OTk5OTg==';
/** A pool's coordinates as tool arguments (snake_case). */
export const ids = { workspace_id: WS, pool_id: POOL, provider_id: PROVIDER };
/** The seed example's static endpoint (scheme, host, port, username): the password is each test's own. */
export const ENDPOINT = { scheme: 'http', host: '203.0.113.10', port: 8080, username: 'user-018f' };

/**
 * Makes a new workspace ID per call (16 bytes of `fill`, the first byte `first`, a counter in the last four), so
 * tests and eras never see each other's sessions.
 */
export function workspaceIds(fill: number, first = fill): () => string {
  let counter = 0;
  return () => {
    const b = Buffer.alloc(16, fill);
    b.writeUInt32BE(++counter, 12);
    b[0] = first;
    return b.toString('base64');
  };
}
