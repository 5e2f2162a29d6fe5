#!/usr/bin/env bash
# End-to-end fan-out over loopback: a server process per transport and repetition, a load process per run (docs/benchmarks.md).
#   benchmarks/run-load.sh                      # N in 1 100 1000, 3 repetitions, all transports
#   SUBSCRIBERS="1 100 1000 5000" REPS=3 EVENTS=1000 benchmarks/run-load.sh
#   TRANSPORTS="sse websocket" SUBSCRIBERS=1000 REPS=1 benchmarks/run-load.sh   # a subset, for a quick look
# Each transport gets a server process of its own in each repetition; unless WARMUP=0, one unrecorded run warms it.
# Every step is bounded by `timeout`; the server is stopped by its PID. Results: benchmarks/results/load-<date>.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."

SUBSCRIBERS=${SUBSCRIBERS:-"1 100 1000"}
REPS=${REPS:-3}
EVENTS=${EVENTS:-1000}      # flood phase; at most the subscriber queue the server configures (16,384 events)
PACED=${PACED:-200}         # paced phase, for latency and the steady state
PACED_WARMUP=${PACED_WARMUP:-100}  # events at the paced rate before it, measured apart (a new stream's one-time growth)
RATE=${RATE:-100}           # events per second in the paced phase
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
WARMUP=${WARMUP:-1}         # one unrecorded run per transport server at the largest N first, so no recorded run meets a cold server
PAUSE_DAMON=${PAUSE_DAMON:-0} # 1: pause the kernel's DAMON monitors (kdamond) for the run, as root; see below
read -r -a TRANSPORTS <<< "${TRANSPORTS:-sse websocket signalr baseline-sse baseline-signalr raw}"

limit=$(ulimit -n)
for n in $SUBSCRIBERS ${WARMUP_SUBSCRIBERS:-}; do
  if (( n + 200 > limit )); then echo "N=$n needs more than ulimit -n ($limit) file descriptors" >&2; exit 1; fi
done

timeout 300 dotnet build benchmarks/Rocket.LoadTest -c Release -v q -nologo >/dev/null
BIN=benchmarks/Rocket.LoadTest/bin/Release/net10.0/Rocket.LoadTest

mkdir -p benchmarks/results
out="benchmarks/results/load-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
log="${out%.jsonl}.server.log"
: >"$log"

# A free loopback port P whose neighbour P+1 (the raw-socket floor) is free too.
free_port() {
  python3 - <<'PY'
import random, socket
for _ in range(100):
    p = random.randint(20000, 59000)
    try:
        for q in (p, p + 1):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass
PY
}

# This machine's kernel runs DAMON (kdamond) with a proactive-reclaim scheme: every 500 ms it samples the accessed bits of
# physical memory for a few milliseconds of CPU, which on 2 cores holds up whatever was due then (perf sched showed the
# paced publisher's late events coming every 0.51 s, each right behind a kdamond pass). PAUSE_DAMON=1
# turns every kdamond that is on off for the run and back on when it ends; each result line records the state it
# ran in (machineDamon).
damons=()
resume_damon() {
  for d in "${damons[@]}"; do echo on >"$d" || echo "could not turn $d back on" >&2; done
  damons=()
}

# One server process per transport and repetition, hosting that transport only (its services, middleware and route, as an
# app serving it alone would; a server hosting every transport put SSE connections through SignalR's middleware too):
# what a run leaves in a server (plain SignalR's undelivered backlog at 5,000 subscribers, a memory pool grown to a
# flood's depth, a heap full of another transport's garbage) then weighs on that transport's own later runs only. It is
# stopped by its PID.
server=
stop_server() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi
}
trap 'stop_server; resume_damon' EXIT
if (( PAUSE_DAMON )); then
  for d in /sys/kernel/mm/damon/admin/kdamonds/*/state; do
    if [[ -f "$d" && "$(cat "$d")" == on ]]; then
      echo off >"$d" || { echo "PAUSE_DAMON=1 needs root (could not write $d)" >&2; exit 1; }
      damons+=("$d")
    fi
  done
fi

start_server() {
  port=$(free_port)
  timeout $(( 60 + (${#SUBS[@]} + 1) * RUN_TIMEOUT )) "$BIN" server --port "$port" --transport "$1" >>"$log" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/control/stats" >/dev/null && break
    sleep 0.1
  done
}

read -r -a SUBS <<< "$SUBSCRIBERS"
# The warm-up's N: the largest measured, so the server's memory pool has held that many connections' buffers before any
# recorded run (a warm-up at a smaller N left a run at 5,000 paying the pool's growth in its first flood). Bounded by
# WARMUP_TIMEOUT: plain SignalR's flood at 5,000 does not finish.
# WARMUP_SUBSCRIBERS sets it apart, to measure a few N under the whole run's conditions (e.g. latency at N = 1 on
# servers warmed at 5,000).
warm=${WARMUP_SUBSCRIBERS:-$(for n in "${SUBS[@]}"; do echo "$n"; done | sort -n | tail -1)}
WARMUP_TIMEOUT=${WARMUP_TIMEOUT:-60}

# The load process is the harness, not the subject: compiled fully optimized from the start (no tiering), so its receive
# loops are not being recompiled while it measures a flood.
export DOTNET_TieredCompilation=0
echo "results in $out" >&2
for rep in $(seq "$REPS"); do
  # Alternate the order: forward on odd repetitions, reversed on even ones.
  order=("${TRANSPORTS[@]}")
  if (( rep % 2 == 0 )); then
    order=(); for (( i=${#TRANSPORTS[@]}-1; i>=0; i-- )); do order+=("${TRANSPORTS[i]}"); done
  fi
  for t in "${order[@]}"; do
    start_server "$t"
    if (( WARMUP )); then
      # A fresh server's first run pays its JIT (tiering up the transport's code), thread-pool and memory-pool growth:
      # one unrecorded run at the warm-up's N with a whole flood goes first.
      timeout $(( WARMUP_TIMEOUT + 20 )) "$BIN" load --server "http://127.0.0.1:$port" --transport "$t" \
        --subscribers "$warm" --events "$EVENTS" --paced 20 --rate "$RATE" --timeout "$WARMUP_TIMEOUT" >/dev/null || true
    fi
    for n in "${SUBS[@]}"; do
      line=$(timeout $(( RUN_TIMEOUT + 20 )) "$BIN" load --server "http://127.0.0.1:$port" --transport "$t" \
        --subscribers "$n" --events "$EVENTS" --paced "$PACED" --paced-warmup "$PACED_WARMUP" --rate "$RATE" --timeout "$RUN_TIMEOUT" || true)
      if [[ -z "$line" ]]; then
        line="{\"transport\":\"$t\",\"subscribers\":$n,\"failed\":true}"
      fi
      echo "{\"rep\":$rep,${line#\{}" | tee -a "$out"
    done
    stop_server
  done
done

trap - EXIT
resume_damon
echo "done: $out" >&2
