#!/usr/bin/env bash
# The reconnect storm over loopback (docs/reliability.md, "Reconnect storm"): a bench server with SSE, LIVE subscribers
# on a paced stream, measured quiet and then while STORM clients reconnect all at once, wave after wave, each first
# waiting a delay drawn from 0 to SPREAD seconds (0: all in the same instant). One JSON line per run in
# benchmarks/results/storm-<date>.jsonl. Bounded by `timeout`; the server is stopped by its PID.
#   benchmarks/run-storm.sh
#   LIVE=100 STORM=1000 EVENTS=1000 RATE=100 SPREADS="0 3" REPS=3 benchmarks/run-storm.sh
set -euo pipefail
cd "$(dirname "$0")/.."

LIVE=${LIVE:-100}
STORM=${STORM:-1000}
EVENTS=${EVENTS:-1000}
WARMUP_EVENTS=${WARMUP_EVENTS:-200}
RATE=${RATE:-100}
REPS=${REPS:-1}
read -r -a SPREADS <<< "${SPREADS:-0 3}"
RUN_TIMEOUT=${RUN_TIMEOUT:-300}

if (( LIVE + STORM + 200 > $(ulimit -n) )); then echo "LIVE + STORM needs more than ulimit -n file descriptors" >&2; exit 1; fi
timeout 300 dotnet build benchmarks/Rocket.LoadTest -c Release -v q -nologo >/dev/null
BIN=benchmarks/Rocket.LoadTest/bin/Release/net10.0/Rocket.LoadTest
mkdir -p benchmarks/results
out="benchmarks/results/storm-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
log="${out%.jsonl}.server.log"
: >"$log"

pid=""
stop_server() {
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || echo "the server exited with $? on SIGTERM; see $log" >&2
    pid=""
  fi
}
trap stop_server EXIT

for rep in $(seq 1 "$REPS"); do
  for spread in "${SPREADS[@]}"; do
    port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
    echo "== rep $rep, spread $spread, port $port" >>"$log"
    "$BIN" server --port "$port" --transport sse >>"$log" 2>&1 &
    pid=$!
    ready=0
    for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/control/stats" >/dev/null && { ready=1; break; }; sleep 0.5; done
    if (( ! ready )); then echo "the server did not start; see $log" >&2; stop_server; continue; fi
    echo "rep $rep, spread $spread s: $LIVE live, $STORM reconnecting" >&2
    timeout $((RUN_TIMEOUT + 30)) "$BIN" storm --server "http://127.0.0.1:$port" --live "$LIVE" --storm "$STORM" \
      --events "$EVENTS" --warmup "$WARMUP_EVENTS" --rate "$RATE" --spread "$spread" --timeout "$RUN_TIMEOUT" \
      | sed "s/^{/{\"loadAverageAtStart\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",/" | tee -a "$out" || echo "run failed (exit $?)" >&2
    stop_server
  done
done
echo "results: $out" >&2
