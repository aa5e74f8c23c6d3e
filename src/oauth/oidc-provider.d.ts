// oidc-provider 8 ships no types; kernel-mcp uses a narrow part of it (see authorization-server.ts), typed there.
declare module 'oidc-provider';
