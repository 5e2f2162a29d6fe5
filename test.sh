#!/usr/bin/env bash
# Runs every test of Rocket on a fresh machine: installs what the tests need, builds the whole solution
# (benchmarks included), starts the services the tests use on private loopback ports, runs `dotnet test`,
# stops the services by PID, and prints the real totals from the TRX files as `N passed, N failed, N skipped`.
# Skipped tests are the upstream conformance suite's, when ../shared is not beside the repository (only CI has it;
# ROCKET_REQUIRE_SHARED_SUITE=1, which .ci/run sets, makes them run and fail instead).
# Exit status: 0 only when every test project ran and no test failed.
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "test.sh: $*" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

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
# The sample page's SignalR option serves SignalR's browser client from these (the JavaScript client tests use it).
if [ -f samples/Rocket.Sample/package-lock.json ]; then
  (cd samples/Rocket.Sample && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in samples/Rocket.Sample failed"
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

# --- the packages: every library packed, and a new app built from those packages alone streams a change ---------
package_status=0
bash eng/package-smoke.sh || package_status=$?

# --- totals from the TRX files, one per test project -----------------------------------------------
# A skipped test is a result with outcome="NotExecuted": the Counters leave it out of executed but still write
# notExecuted="0", so skips are counted from the results themselves. A crashed test host loses its pending results
# (the Counters can be all zero) and leaves a ResultSummary outcome other than "Completed": that counts as a failure.
counter() { local v; v=$(sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2"); echo "${v:-0}"; }
# The console logger names skipped tests but not why: print each one's reason (its result's first <Message> line).
skip_reasons() {
  awk '/<UnitTestResult / { name = ""; if ($0 ~ /outcome="NotExecuted"/) { match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11) } }
       name != "" && /<Message>/ { sub(/.*<Message>/, ""); sub(/<\/Message>.*/, ""); print "  skipped " name ": " $0; name = "" }
       name != "" && /<\/UnitTestResult>/ { print "  skipped " name; name = "" }' "$1"
}
passed=0; failed=0; skipped=0; missing=()
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  trx="TestResults/$name.trx"
  if [ ! -f "$trx" ]; then missing+=("$name"); continue; fi
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(counter passed "$counters"); t=$(counter total "$counters"); ex=$(counter executed "$counters")
  f=$(( $(counter failed "$counters") + $(counter error "$counters") + $(counter timeout "$counters") + $(counter aborted "$counters") ))
  s=$(grep -o '<UnitTestResult [^>]*outcome="NotExecuted"' "$trx" | wc -l)
  # Results that neither ran nor were skipped count as failed.
  unexplained=$(( t - ex - s ))
  if [ "$unexplained" -gt 0 ]; then f=$((f + unexplained)); fi
  outcome=$(grep -o '<ResultSummary outcome="[A-Za-z]*"' "$trx" | head -n 1 | sed 's/.*outcome="\([A-Za-z]*\)"/\1/')
  if [ "$outcome" != "Completed" ] && [ "$f" -eq 0 ]; then
    echo "test.sh: the $name run did not complete (outcome ${outcome:-missing}; a crashed test host?): see $trx" >&2
    f=1
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  echo "$name: $p passed, $f failed, $s skipped"
  if [ "$s" -gt 0 ]; then skip_reasons "$trx"; fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: no TRX file for ${missing[*]} (the project did not run)" >&2
  failed=$((failed + ${#missing[@]}))
fi
if [ "$package_status" -ne 0 ]; then
  echo "test.sh: the package check (eng/package-smoke.sh) failed" >&2
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$failed" -ne 0 ] || [ "$test_status" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
