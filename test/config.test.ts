/** Configuration: flags win over the environment; bad values are errors that name the flag and variable. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig([], {});
    expect(c.baseUrl).toBe('https://api.onkernel.com');
    expect(c.transport).toBe('stdio');
    expect(c.timeoutMs).toBe(60_000);
    expect(c.includeDeprecated).toBe(false);
    expect(c.idleReleaseMs).toBe(30_000);
  });

  it('reads the environment, and flags win', () => {
    const env = { KERNEL_API_KEY: 'sk_env_1234567', KERNEL_TIMEOUT_MS: '5000', KERNEL_MCP_READ_ONLY: 'true' };
    const c = loadConfig(['--timeout-ms', '7000', '--include-deprecated'], env);
    expect(c.apiKey).toBe('sk_env_1234567');
    expect(c.timeoutMs).toBe(7000);
    expect(c.readOnly).toBe(true);
    expect(c.includeDeprecated).toBe(true);
  });

  it('names the flag and the variable of a bad value', () => {
    expect(() => loadConfig(['--timeout-ms', 'soon'], {})).toThrow(/--timeout-ms \(KERNEL_TIMEOUT_MS\)/);
    expect(() => loadConfig([], { KERNEL_BASE_URL: 'not a url' })).toThrow(/--base-url \(KERNEL_BASE_URL\)/);
    expect(() => loadConfig(['--transport', 'carrier-pigeon'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--idle-release-ms', 'soon'], {})).toThrow(
      /--idle-release-ms \(KERNEL_MCP_IDLE_RELEASE_MS\)/,
    );
    expect(loadConfig([], { KERNEL_MCP_IDLE_RELEASE_MS: '0' }).idleReleaseMs).toBe(0);
  });

  it('rejects unknown flags in one line that says where the options are', () => {
    expect(() => loadConfig(['--no-such-flag'], {})).toThrow(
      /^Unknown option '--no-such-flag'.*--help` lists every option\)$/,
    );
  });

  it('treats an empty value or an unsubstituted MCP bundle placeholder as unset', () => {
    // What Claude Desktop passes for an option the user did not set: `${user_config.<name>}`, literally.
    const literal = (name: string) => `\${user_config.${name}}`;
    const env = {
      KERNEL_MCP_TOOLSETS: literal('toolsets'),
      KERNEL_MCP_TOOLS: '',
      KERNEL_MCP_EXCLUDE_TOOLS: ` ${literal('exclude_tools')} `,
      KERNEL_PROXY_POOL_URL: literal('proxy_pool_url'),
      KERNEL_MCP_MAX_RESULT_TOKENS: literal('max_result_tokens'),
      KERNEL_API_KEY: literal('api_key'),
    };
    const c = loadConfig(['--output-dir', literal('output_dir')], env);
    expect(c.toolsets).toBeUndefined();
    expect(c.tools).toBeUndefined();
    expect(c.excludeTools).toBeUndefined();
    expect(c.proxyPoolUrl).toBeUndefined();
    expect(c.apiKey).toBeUndefined();
    expect(c.maxResultTokens).toBe(loadConfig([], {}).maxResultTokens);
    expect(c.outputDir).toBe(loadConfig([], {}).outputDir);
    // Anything else is a value, checked as usual.
    expect(() => loadConfig([], { KERNEL_PROXY_POOL_URL: `\${other}` })).toThrow(/--proxy-pool-url/);
  });

  it('splits comma lists', () => {
    const c = loadConfig(['--toolsets', 'browsers, computer,,playwright'], {});
    expect(c.toolsets).toEqual(['browsers', 'computer', 'playwright']);
  });
});

describe('makeConfig', () => {
  it('takes lists as arrays as well as comma-separated strings', async () => {
    const { makeConfig } = await import('../src/config.js');
    expect(makeConfig({ toolsets: ['browsers', 'computer'] }).toolsets).toEqual(['browsers', 'computer']);
  });
});
