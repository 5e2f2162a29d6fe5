#!/usr/bin/env bash
# The stress suite: self-checking scenarios over loopback, each against a server process of its own; prints a table and
# exits non-zero when a check fails (docs/reliability.md).
#   benchmarks/run-stress.sh                                  # every scenario at full size, a 1-minute soak
#   benchmarks/run-stress.sh --scenarios reset-storm          # one scenario
#   benchmarks/run-stress.sh --cycles 20000 --soak-minutes 10 # scaled: fewer churn cycles, the full soak
#   benchmarks/run-stress.sh --help                           # every option
# Bounded: every scenario has its own time limits, and the whole run is stopped after STRESS_TIMEOUT seconds (default
# 3600). Servers are child processes, stopped by their PIDs. Results: benchmarks/results/stress-<time>.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."

if (( $(ulimit -n) < 4096 )); then
  echo "the scenarios open a few thousand sockets; raise ulimit -n (now $(ulimit -n)) to at least 4096" >&2
  exit 1
fi

dotnet build benchmarks/Rocket.Stress -c Release -warnaserror -v quiet -nologo >&2
exec timeout --kill-after=30 "${STRESS_TIMEOUT:-3600}" dotnet benchmarks/Rocket.Stress/bin/Release/net10.0/Rocket.Stress.dll "$@"
