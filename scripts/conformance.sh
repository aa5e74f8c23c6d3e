#!/usr/bin/env bash
# The official MCP conformance suite against kernel-mcp's Streamable HTTP server (--simulate, loopback), once per
# required protocol revision (the suite runs one revision at a time). Known failures are listed, with the reason,
# in conformance-baseline.json; each revision's list becomes the suite's own --expected-failures baseline, so the
# run fails on any unlisted failure and on any listed check that passes now (a stale entry).
#
#   scripts/conformance.sh                 build, start the server, run both revisions
#   CONFORMANCE_KEEP=1 scripts/conformance.sh   keep the result folders (printed at the end)
#
# The suite needs Node >= 22; on an older Node it runs under the Node of the npm `node` package.
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE="@modelcontextprotocol/conformance@${CONFORMANCE_VERSION:-0.2.0-alpha.12}"
SUITE_NODE="${CONFORMANCE_NODE:-node@22}"
REVISIONS=(${CONFORMANCE_REVISIONS:-2025-11-25 2026-07-28})
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -z "${CONFORMANCE_KEEP:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

echo "== build"
npm run -s build

echo "== start kernel-mcp --simulate --transport http"
node dist/src/cli.js --simulate --transport http --port 0 --shutdown-drain-ms 0 --log-level info >"$work/server.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 200); do
  url="$(sed -n 's/.*listening on \(http:[^ ]*\/mcp\).*/\1/p' "$work/server.log" | head -n 1)"
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "kernel-mcp did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "   $url"

node_major="$(node -p 'process.versions.node.split(".")[0]')"
run_suite() {
  if [ "$node_major" -ge 22 ]; then
    npx -y "$SUITE" "$@"
  else
    # `npx -p node@22` puts that Node first on PATH, so the suite's `#!/usr/bin/env node` runs under it.
    npx -y -p "$SUITE_NODE" -p "$SUITE" -c "conformance $(printf '%q ' "$@")"
  fi
}

status=0
for rev in "${REVISIONS[@]}"; do
  baseline="$work/baseline-$rev.yml"
  node -e '
    const [file, rev, out] = process.argv.slice(1);
    const all = JSON.parse(require("node:fs").readFileSync(file, "utf8")).revisions ?? {};
    const entries = Object.entries(all[rev] ?? {});
    const lines = ["server:", ...entries.map(([check, why]) => `  - ${JSON.stringify(check)} # ${why.replace(/\n/g, " ")}`)];
    require("node:fs").writeFileSync(out, entries.length ? lines.join("\n") + "\n" : "server: []\n");
  ' conformance-baseline.json "$rev" "$baseline"
  echo "== conformance $rev ($SUITE, $(grep -c '^  - ' "$baseline" || true) known failures)"
  rev_status=0
  run_suite server --url "$url" --requirements "$rev" --expected-failures "$baseline" -o "$work/results-$rev" \
    >"$work/suite-$rev.log" 2>&1 || rev_status=$?
  # The summary and the baseline verdict; the per-scenario chatter stays in the log.
  sed -n '/=== SUMMARY ===/,$p' "$work/suite-$rev.log"
  if [ "$rev_status" -ne 0 ]; then
    echo "!! conformance $rev failed (exit $rev_status)" >&2
    grep -v '^npm warn' "$work/suite-$rev.log" | tail -n 40 >&2
    status=1
  fi
done

if [ -n "${CONFORMANCE_KEEP:-}" ]; then echo "results kept in $work"; fi
exit "$status"
