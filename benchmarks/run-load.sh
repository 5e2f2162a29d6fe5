#!/usr/bin/env bash
# End-to-end fan-out over loopback: a server process per transport and repetition, a load process per run (docs/benchmarks.md).
#   benchmarks/run-load.sh                      # N in 1 100 1000, 3 repetitions, all transports
#   SUBSCRIBERS="1 100 1000 5000" REPS=3 EVENTS=1000 benchmarks/run-load.sh
#   TRANSPORTS="sse websocket" SUBSCRIBERS=1000 REPS=1 benchmarks/run-load.sh   # a subset, for a quick look
#   MODES="memory redis redis2" TRANSPORTS=sse SUBSCRIBERS=1000 WRITES=1 benchmarks/run-load.sh       # scale-out on Redis
# Each transport gets a server process of its own in each repetition; unless WARMUP=0, one unrecorded run warms it.
# MODES (default memory) runs each Rocket transport with its collection in memory, on one node on Redis (redis), and on
# two nodes on one Redis (redis2: receivers split half and half, events published on the first node), side by side;
# the baselines and the floor run in memory only. WRITES=1 adds REST writes per second through the scaffold (POST
# /bench), in memory and on Redis. Any Redis mode starts a redis-server of its own on a free loopback port (no
# persistence) and stops it by its PID at the end.
# Every step is bounded by `timeout`; servers are stopped by their PIDs. Results: benchmarks/results/load-<date>.jsonl
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
read -r -a TRANSPORTS <<< "${TRANSPORTS:-sse websocket signalr signalr-messagepack baseline-sse baseline-signalr raw}"
read -r -a MODES <<< "${MODES:-memory}"
WRITES=${WRITES:-0}                 # 1: REST writes per second, in memory and on Redis, after each repetition's fan-out
WRITE_REQUESTS=${WRITE_REQUESTS:-20000}
WRITE_CONCURRENCY=${WRITE_CONCURRENCY:-16}
WRITE_WARMUP=${WRITE_WARMUP:-2000}
read -r -a WRITE_CLIENTS <<< "${WRITE_CLIENTS:-socket}"  # socket (the tool's plain keep-alive sockets) and/or httpclient
for m in "${MODES[@]}"; do
  case "$m" in memory|redis|redis2) ;; *) echo "unknown mode '$m' (memory, redis, redis2)" >&2; exit 1 ;; esac
done

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
server2=
stop_server() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi
  if [[ -n "$server2" ]]; then kill "$server2" 2>/dev/null || true; wait "$server2" 2>/dev/null || true; server2=; fi
}

# The Redis of the Redis modes: started here, on loopback, without persistence, in a directory of its own, and stopped by
# the PID it writes. Each server start gets a key prefix of its own, and the keys are dropped when its servers stop, so
# no run sees another's collection.
redis_dir=
redis_port=
stop_redis() {
  if [[ -n "$redis_dir" && -f "$redis_dir/pid" ]]; then
    local pid; pid=$(cat "$redis_dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [[ -n "$redis_dir" ]]; then rm -rf "$redis_dir"; redis_dir=; fi
}
trap 'stop_server; stop_redis; resume_damon' EXIT
trap 'exit 130' INT TERM
if (( PAUSE_DAMON )); then
  for d in /sys/kernel/mm/damon/admin/kdamonds/*/state; do
    if [[ -f "$d" && "$(cat "$d")" == on ]]; then
      echo off >"$d" || { echo "PAUSE_DAMON=1 needs root (could not write $d)" >&2; exit 1; }
      damons+=("$d")
    fi
  done
fi

# start_server TRANSPORT [MODE]: one server (memory, redis) or two on one Redis (redis2), each answering /control/stats
# once its collection is ready (on Redis: loaded, and the benchmark's record created).
prefixes=0
start_server() {
  local mode=${2:-memory} lifetime=$(( 60 + (${#SUBS[@]} + 1) * RUN_TIMEOUT )) redis_args=()
  if [[ "$mode" != memory ]]; then
    prefixes=$(( prefixes + 1 ))
    redis_args=(--redis "127.0.0.1:$redis_port" --key-prefix "bench$prefixes")
  fi
  port=$(free_port)
  timeout "$lifetime" "$BIN" server --port "$port" --transport "$1" "${redis_args[@]}" >>"$log" 2>&1 &
  server=$!
  wait_ready "$port"
  port2=
  if [[ "$mode" == redis2 ]]; then
    port2=$(free_port)
    timeout "$lifetime" "$BIN" server --port "$port2" --transport "$1" "${redis_args[@]}" >>"$log" 2>&1 &
    server2=$!
    wait_ready "$port2"
  fi
}
wait_ready() {
  for _ in $(seq 300); do
    curl -fs "http://127.0.0.1:$1/control/stats" >/dev/null && return 0
    sleep 0.1
  done
  echo "the server on port $1 did not get ready within 30 s (see $log)" >&2
  exit 1
}
# The load options that point a run at the servers start_server started, and at their Redis.
targets() {
  local mode=${1:-memory}
  echo --server "http://127.0.0.1:$port"
  if [[ "$mode" == redis2 ]]; then echo --server2 "http://127.0.0.1:$port2"; fi
  if [[ "$mode" != memory ]]; then echo --redis "127.0.0.1:$redis_port"; fi
}
stop_servers() {
  stop_server
  if [[ -n "$redis_port" ]] && command -v redis-cli >/dev/null; then
    timeout 10 redis-cli -h 127.0.0.1 -p "$redis_port" FLUSHALL >/dev/null || true
  fi
}

# Whether a mode applies to a transport: Redis keeps Rocket's collection, so the baselines and the floor run in memory.
applies() {
  [[ "$2" == memory ]] || [[ "$1" == sse || "$1" == websocket || "$1" == signalr || "$1" == signalr-messagepack ]]
}

needs_redis=0
for m in "${MODES[@]}"; do [[ "$m" != memory ]] && needs_redis=1; done
(( WRITES )) && needs_redis=1
if (( needs_redis )); then
  redis_dir=$(mktemp -d "${TMPDIR:-/tmp}/rocket-bench-redis.XXXXXX")
  redis_port=$(free_port)
  timeout 20 redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes --save '' --appendonly no \
    --dir "$redis_dir" --pidfile "$redis_dir/pid" --logfile "$redis_dir/redis.log" >/dev/null
  for _ in $(seq 50); do [[ -s "$redis_dir/pid" ]] && break; sleep 0.1; done
  [[ -s "$redis_dir/pid" ]] || { echo "redis-server did not start on port $redis_port" >&2; exit 1; }
  echo "redis-server $(redis-server --version | grep -o 'v=[^ ]*') on 127.0.0.1:$redis_port, PID $(cat "$redis_dir/pid")" >&2
fi

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
  modes=("${MODES[@]}")
  if (( rep % 2 == 0 )); then
    modes=(); for (( i=${#MODES[@]}-1; i>=0; i-- )); do modes+=("${MODES[i]}"); done
  fi
  for t in "${order[@]}"; do
    for m in "${modes[@]}"; do
      applies "$t" "$m" || continue
      start_server "$t" "$m"
      read -r -a target <<< "$(targets "$m" | tr '\n' ' ')"
      if (( WARMUP )); then
        # A fresh server's first run pays its JIT (tiering up the transport's code), thread-pool and memory-pool growth:
        # one unrecorded run at the warm-up's N with a whole flood goes first.
        timeout $(( WARMUP_TIMEOUT + 20 )) "$BIN" load "${target[@]}" --transport "$t" \
          --subscribers "$warm" --events "$EVENTS" --paced 20 --rate "$RATE" --timeout "$WARMUP_TIMEOUT" >/dev/null || true
      fi
      for n in "${SUBS[@]}"; do
        line=$(timeout $(( RUN_TIMEOUT + 20 )) "$BIN" load "${target[@]}" --transport "$t" \
          --subscribers "$n" --events "$EVENTS" --paced "$PACED" --paced-warmup "$PACED_WARMUP" --rate "$RATE" --timeout "$RUN_TIMEOUT" || true)
        if [[ -z "$line" ]]; then
          line="{\"transport\":\"$t\",\"mode\":\"$m\",\"subscribers\":$n,\"failed\":true}"
        fi
        echo "{\"rep\":$rep,${line#\{}" | tee -a "$out"
      done
      stop_servers
    done
  done

  if (( WRITES )); then
    # REST writes: a fresh server with the scaffold (the SSE app's), in memory and on Redis, in alternating order.
    wmodes=(memory redis)
    if (( rep % 2 == 0 )); then wmodes=(redis memory); fi
    for m in "${wmodes[@]}"; do
      for c in "${WRITE_CLIENTS[@]}"; do
        start_server sse "$m"
        read -r -a target <<< "$(targets "$m" | tr '\n' ' ')"
        line=$(timeout $(( RUN_TIMEOUT + 20 )) "$BIN" writes "${target[@]}" --requests "$WRITE_REQUESTS" \
          --concurrency "$WRITE_CONCURRENCY" --warmup "$WRITE_WARMUP" --client "$c" --timeout "$RUN_TIMEOUT" || true)
        if [[ -z "$line" ]]; then
          line="{\"kind\":\"writes\",\"mode\":\"$m\",\"client\":\"$c\",\"failed\":true}"
        fi
        echo "{\"rep\":$rep,${line#\{}" | tee -a "$out"
        stop_servers
      done
    done
  fi
done

trap - EXIT
stop_redis
resume_damon
echo "done: $out" >&2
