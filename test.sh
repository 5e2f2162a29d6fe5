#!/usr/bin/env bash
# Runs every test of Rocket on a fresh machine: installs what the tests need, builds the whole solution
# (benchmarks included), starts the services the tests use on private loopback ports, runs `dotnet test`,
# stops the services by PID, and prints the real totals from the TRX files as `N passed, N failed`.
# Exit status: 0 only when every test project ran and no test failed.
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "test.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

# --- system packages (only what is missing; apt needs root) --------------------------------------
need_apt=()
for pkg in $(cat eng/apt-packages.txt 2>/dev/null); do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null \
      || fail "apt-get install ${need_apt[*]} failed"
  else
    fail "missing Debian packages: ${need_apt[*]} (run as root, or install them)"
  fi
fi

# --- npm packages from the committed lock file ----------------------------------------------------
if [ -f tests/node/package-lock.json ]; then
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/node failed"
fi

# --- build everything, benchmarks included (dotnet test would skip them) ---------------------------
dotnet build Rocket.sln -c Release -warnaserror || fail "the build failed"

# --- services, stopped by PID whatever happens ------------------------------------------------------
run_dir=$(mktemp -d)
cleanup() {
  for pidfile in "$run_dir"/*.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
  done
  rm -rf "$run_dir"
}
trap cleanup EXIT
if [ -f eng/services.sh ]; then
  # shellcheck source=/dev/null
  . eng/services.sh "$run_dir" || fail "a test service did not start"
fi

# --- tests ------------------------------------------------------------------------------------------
rm -rf TestResults
dotnet test Rocket.sln -c Release --no-build
test_status=$?

# --- totals from the TRX files, one per test project -----------------------------------------------
passed=0; failed=0; missing=()
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  trx="TestResults/$name.trx"
  if [ ! -f "$trx" ]; then missing+=("$name"); continue; fi
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  ex=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0}))
  # Tests that were discovered but never reported a result (a crashed host) count as failed.
  failed=$((failed + ${t:-0} - ${ex:-0}))
  echo "$name: ${p:-0} passed, $(( ${f:-0} + ${e:-0} )) failed, $(( ${t:-0} - ${ex:-0} )) not run"
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: no TRX file for ${missing[*]} (the project did not run)" >&2
  failed=$((failed + ${#missing[@]}))
fi
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$test_status" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
