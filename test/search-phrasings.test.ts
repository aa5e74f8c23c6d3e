/**
 * Search that understands agents: natural phrasings an agent uses find the intended operation in the top 3 of
 * `kernel_search_operations` (over every operation dynamic mode reaches by default), for at least 90% of them.
 * Each phrasing lists the operations that would do the job; a hit is any of them in the top 3.
 */
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../src/config.js';
import { allTools } from '../src/registry.js';
import { searchOperations } from '../src/tools/dynamic.js';

const PAGE_READ = ['browsers_page_snapshot', 'browsers_playwright_execute'];
const NAVIGATE = ['browsers_playwright_execute', 'browsers_create'];

const PHRASINGS: [string, string[]][] = [
  ['go to a website', NAVIGATE],
  ['open a website', NAVIGATE],
  ['visit a web page', NAVIGATE],
  ['navigate to a url', NAVIGATE],
  ['get the page title', PAGE_READ],
  ['get the text of the page', PAGE_READ],
  ['read the page content', PAGE_READ],
  ['accessibility tree of the page', PAGE_READ],
  ['stop the browser', ['browsers_delete']],
  ['close browser', ['browsers_delete']],
  ['kill browser', ['browsers_delete']],
  ['end the browser session', ['browsers_delete']],
  ['run a command', ['browsers_process_exec', 'browsers_process_spawn']],
  ['run a shell command', ['browsers_process_exec', 'browsers_process_spawn']],
  ['execute a bash script', ['browsers_process_exec', 'browsers_process_spawn']],
  ['read console errors', ['browsers_telemetry_stream']],
  ['see the console log', ['browsers_telemetry_stream']],
  ['failed network requests', ['browsers_telemetry_stream']],
  ['upload a file', ['browsers_fs_upload', 'browsers_fs_write_file']],
  ['log in to a site', ['auth_connections_create', 'auth_connections_login', 'credentials_create']],
  ['save a login', ['profiles_create', 'auth_connections_create', 'credentials_create']],
  ['save the browser profile', ['profiles_create']],
  ['keep cookies between sessions', ['profiles_create', 'profiles_list']],
  ['record a video', ['browsers_replays_start']],
  ['watch a replay of the session', ['browsers_replays_list', 'browsers_replays_download']],
  ['use a proxy', ['proxies_create', 'proxies_list']],
  ['list running browsers', ['browsers_list']],
  ['wait for a process to finish', ['browsers_process_stdout_stream', 'browsers_process_status']],
  ['take a screenshot', ['browsers_computer_capture_screenshot']],
  ['click a button', ['browsers_computer_click_mouse']],
  ['type some text', ['browsers_computer_type_text']],
  ['press enter', ['browsers_computer_press_key']],
  ['scroll down', ['browsers_computer_scroll']],
  ['download a file from the browser', ['browsers_fs_read_file', 'browsers_fs_download_dir_zip']],
  ['write a file', ['browsers_fs_write_file']],
  ['create a new browser', ['browsers_create']],
];

describe('kernel_search_operations on natural phrasings', () => {
  const ops = allTools(makeConfig({ dynamic: true })).filter((t) => !t.deprecated);
  const results = PHRASINGS.map(([query, want]) => {
    const top = searchOperations(ops, query)
      .slice(0, 3)
      .map((h) => h.def.name);
    return { query, want, top, hit: top.some((t) => want.includes(t)) };
  });

  it('lists at least 30 phrasings whose expected operations all exist', () => {
    expect(PHRASINGS.length).toBeGreaterThanOrEqual(30);
    const names = new Set(ops.map((o) => o.name));
    for (const [, want] of PHRASINGS) expect(want.some((w) => names.has(w))).toBe(true);
  });

  it('finds the intended operation in the top 3 for at least 90% of them', () => {
    const misses = results.filter((r) => !r.hit).map((r) => `${r.query} -> ${r.top.join(', ')}`);
    const rate = (results.length - misses.length) / results.length;
    expect(rate, `misses:\n${misses.join('\n')}`).toBeGreaterThanOrEqual(0.9);
  });
});
