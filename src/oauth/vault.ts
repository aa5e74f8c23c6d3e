/**
 * The Kernel API keys people bring through the built-in authorization server, encrypted at rest: AES-256-GCM (Node's
 * crypto) with a key derived by HKDF from KERNEL_MCP_OAUTH_SECRET. Kept by account (the SHA-256 of the key, the same
 * id a passthrough tenant has), bounded, in memory; the storage is an interface so a shared store can back it.
 * A key is never logged and never returned to anyone but the request it authenticates.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

export interface SecretStore {
  get(id: string): Promise<string | undefined>;
  set(id: string, value: string): Promise<void>;
}

/** A bounded in-memory store (oldest first out); a restart forgets everything in it. */
export class MemoryStore implements SecretStore {
  readonly #map = new Map<string, string>();
  constructor(private readonly max = 10_000) {}
  async get(id: string) {
    return this.#map.get(id);
  }
  async set(id: string, value: string) {
    this.#map.delete(id);
    this.#map.set(id, value);
    while (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value as string);
  }
}

export function accountIdFor(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

export class KeyVault {
  readonly #key: Buffer;
  constructor(
    secret: string,
    private readonly store: SecretStore = new MemoryStore(),
  ) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'kernel-mcp', 'kernel api keys v1', 32));
  }

  /** Stores the key; answers its account id. */
  async put(apiKey: string): Promise<string> {
    const id = accountIdFor(apiKey);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(id));
    const data = Buffer.concat([cipher.update(apiKey, 'utf8'), cipher.final()]);
    await this.store.set(id, Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64'));
    return id;
  }

  /** The key of an account, or undefined (unknown, or sealed with another secret). */
  async get(id: string): Promise<string | undefined> {
    const sealed = await this.store.get(id);
    if (!sealed) return undefined;
    const raw = Buffer.from(sealed, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
