/** Every route of the simulated Kernel API (one per spec operation). */
import { APP_ROUTES } from './apps.js';
import { AUTH_ROUTES } from './auth.js';
import { BROWSER_STREAM_ROUTES } from './browser-streams.js';
import { BROWSER_TOOL_ROUTES } from './browser-tools.js';
import { BROWSER_ROUTES } from './browsers.js';
import { COMPUTER_ROUTES } from './computer.js';
import { CREDENTIAL_ROUTES } from './credentials.js';
import { EXTENSION_ROUTES } from './extensions.js';
import { FS_ROUTES } from './fs.js';
import type { Route } from './http.js';
import { ORG_ROUTES } from './org.js';
import { POOL_ROUTES } from './pools.js';
import { PROCESS_ROUTES } from './process.js';
import { PROFILE_ROUTES } from './profiles.js';
import { PROXY_ROUTES } from './proxies.js';
import { REPLAY_ROUTES } from './replays.js';

export const ROUTES: readonly Route[] = [
  ...BROWSER_ROUTES,
  ...BROWSER_STREAM_ROUTES,
  ...BROWSER_TOOL_ROUTES,
  ...COMPUTER_ROUTES,
  ...FS_ROUTES,
  ...PROCESS_ROUTES,
  ...REPLAY_ROUTES,
  ...EXTENSION_ROUTES,
  ...PROFILE_ROUTES,
  ...PROXY_ROUTES,
  ...POOL_ROUTES,
  ...APP_ROUTES,
  ...AUTH_ROUTES,
  ...CREDENTIAL_ROUTES,
  ...ORG_ROUTES,
];
