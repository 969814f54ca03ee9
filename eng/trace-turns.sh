#!/usr/bin/env bash
# How an echo server's threads take turns on its one core. perf records, for 50 ms on the
# server's CPU, every context switch and wake-up and the server's sends, eventfd writes and
# io_uring_enter calls, then this prints each thread's share of the window, its switches, and
# the first events in order. The load is 64-byte ping-pong on CONNECTIONS connections from:
#   - the C ping-pong client (eng/peers/bin/pingpong_client), which keeps the server saturated:
#     the server on CPU 1, the client on CPU 0;
#   - with --runner, the comparison runner's own load generator (as in `compare`), which leaves
#     the server idle between wake-ups: the runner pins both.
#
# usage: eng/trace-turns.sh [--runner] CONNECTIONS [EVENTS] [serve options...]
#   e.g. eng/trace-turns.sh 8 60                       (the default engine: ring thread and pool)
#        eng/trace-turns.sh --runner 8 60
#        eng/trace-turns.sh 8 60 --backend io_uring --dispatch inline
# needs: bash eng/peers/build.sh; dotnet build -c Release; perf (run as root)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dll="$root/Proactor.Bench/bin/Release/net10.0/Proactor.Bench.dll"
events=sched:sched_switch,sched:sched_wakeup,syscalls:sys_enter_sendto,syscalls:sys_enter_write,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_epoll_wait

# Records CPU $2 for 70 ms into $3 (the first 20 ms are dropped: perf settling in), from a CPU
# other than the server's, and the server's thread names (pid $1) into $4.
record() {
  local other; other=$(( $2 == 0 ? 1 : 0 ))
  for t in /proc/"$1"/task/*; do echo "${t##*/} $(cat "$t/comm")"; done > "$4"
  taskset -c "$other" perf record -q -m 4096 -C "$2" -o "$3" -e "$events" -- sleep 0.07 2> /dev/null
}

if [ "${1:-}" = "--serve-traced" ]; then
  # Started by the runner as an external server: serve, and record once warmed up.
  port=$2; data=$3; names=$4; shift 4
  dotnet "$dll" serve --port "$port" "$@" &
  pid=$!
  trap 'kill -TERM $pid 2> /dev/null || true' TERM INT
  ( sleep 3.5; cpu=$(grep Cpus_allowed_list /proc/$pid/status | awk '{print $2}' | cut -d, -f1 | cut -d- -f1); record $pid "$cpu" "$data" "$names" ) &
  wait $pid || true
  exit 0
fi

runner=0
if [ "${1:-}" = "--runner" ]; then runner=1; shift; fi
conns=$1; shift
shown=60
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then shown=$1; shift; fi
log=$(mktemp); data=$(mktemp); namesfile=$(mktemp)
trap 'rm -f "$log" "$data" "$namesfile"' EXIT

if [ $runner = 1 ]; then
  ulimit -n 20000 2> /dev/null || true
  dotnet "$dll" compare --servers traced --workloads "pingpong-$conns" --rounds 1 --duration 3 --warmup 2 \
    --external "traced=bash $0 --serve-traced {port} $data $namesfile $*" > "$log" 2>&1
  echo "$* ${*:+(serve options), }$conns connections, the runner's load generator, the server's CPU for 50 ms:"
else
  client="$root/eng/peers/bin/pingpong_client"
  DOTNET_TC_DelaySingleProcMultiplier=1 taskset -c 1 dotnet "$dll" serve --port 0 "$@" > "$log" 2>&1 &
  pid=$!
  trap 'kill -TERM $pid 2>/dev/null || true; rm -f "$log" "$data" "$namesfile"' EXIT
  for _ in $(seq 300); do grep -q listening "$log" && break; sleep 0.1; done
  port=$(grep -m1 listening "$log" | grep -oE '127\.0\.0\.1:[0-9]+' | cut -d: -f2)
  taskset -c 0 "$client" "$port" "$conns" 4 64 > /dev/null   # warm-up (tiered JIT)
  taskset -c 0 "$client" "$port" "$conns" 3 64 > /dev/null &
  loadpid=$!
  sleep 1
  record $pid 1 "$data" "$namesfile"
  wait $loadpid
  echo "$(grep -m1 listening "$log" | sed 's/.*(\(.*\)).*/\1/'), $conns connections, the C client, CPU 1 for 50 ms:"
fi

names=$(cat "$namesfile")
perf script -i "$data" -F tid,time,event,trace 2> /dev/null | awk -v names="$names" -v shown="$shown" '
  function name(t) { return (t in comm) ? comm[t] : "tid " t }
  BEGIN { n = split(names, lines, "\n"); for (i = 1; i <= n; i++) { t = lines[i]; sub(/ .*/, "", t); c = lines[i]; sub(/^[0-9]+ /, "", c); comm[t] = c; server[t] = 1 }; n = 0 }
  {
    tid = $1; t = $2 + 0; sub(/:$/, "", $3); ev = $3
    if (first == "") first = t
    if (t - first < 0.02) next   # perf settling in: the window starts 20 ms later
    if (start == "") start = t
    us = (t - start) * 1e6
    if (cur == "") { cur = tid; curSince = 0 }   # every event is of the thread on the CPU
    if (ev == "sched:sched_switch") {
      prev = ""; next_ = ""; state = ""
      for (i = 4; i <= NF; i++) {
        if ($i ~ /^prev_pid=/) prev = substr($i, 10)
        if ($i ~ /^prev_state=/) state = substr($i, 12)
        if ($i ~ /^next_pid=/) next_ = substr($i, 10)
        if ($i ~ /^prev_comm=/) { c = substr($i, 11); j = i + 1; while ($j !~ /^prev_pid=/) c = c " " $(j++); comm[substr($j, 10)] = c }
        if ($i ~ /^next_comm=/) { c = substr($i, 11); j = i + 1; while ($j !~ /^next_pid=/) c = c " " $(j++); comm[substr($j, 10)] = c }
      }
      ran[prev] += us - curSince; cur = next_; curSince = us; switches[prev]++
      line = sprintf("%s %s -> %s", name(prev), state == "R" ? "preempted" : "sleeps", name(next_))
    } else if (ev == "sched:sched_wakeup") {
      w = ""; for (i = 4; i <= NF; i++) if ($i ~ /^pid=/) w = substr($i, 5)
      line = sprintf("%s wakes %s", name(tid), (w in comm) ? comm[w] : "tid " w)
    } else {
      s = ev; sub(/.*sys_enter_/, "", s)
      line = sprintf("%s %s", name(tid), s); count[name(tid) " " s]++
    }
    if (++n <= shown) printf "  %9.1f us  %s\n", us, line
    last = us
  }
  END {
    ran[cur] += last - curSince
    print "per thread over " sprintf("%.0f", last) " us of the window:"
    for (t in ran) if (ran[t] > 0) printf "  %-20s on CPU %5.1f %%, switched out %d times\n", name(t), 100 * ran[t] / last, switches[t] + 0
    for (k in count) printf "  %-32s %d\n", k, count[k]
    for (t in switches) if (t in server) sw += switches[t]
    for (k in count) { if (k ~ / sendto$/) sends += count[k]; if (k ~ / io_uring_enter$/) enters += count[k]; if (k ~ / epoll_wait$/) enters += count[k] }
    if (sends > 0) printf "the server: %d sends (round trips), per round trip %.3f context switches, %.3f waits (io_uring_enter or epoll_wait)\n", sends, sw / sends, enters / sends
  }'
