/** The IDs of the seed's CreateSession example (base64 of 16 bytes), shared by the proxy-pool tests. */
export const WS = 'AY+MHnorfD2eTxorPE1ebw==';
export const POOL = 'AY+MISIifMyN3T09PT09PQ==';
export const PROVIDER = 'AY+MIBEReqqLuywsLCwsLA==';
export const SESSION_ID = 'AY+MIjMzfu6P/05OTk5OTg==';
/** A pool's coordinates as tool arguments (snake_case). */
export const ids = { workspace_id: WS, pool_id: POOL, provider_id: PROVIDER };
