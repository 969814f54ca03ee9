#!/usr/bin/env bash
# Context switches, CPU time and syscalls of an echo server per round trip: counts that machine
# load moves much less than CPU times. The server (Proactor.Bench serve, pinned to CPU 1) is
# driven by the C ping-pong client (CPU 0) and watched by perf stat for SECONDS.
#
# usage: eng/count-per-roundtrip.sh CONNECTIONS SIZE SECONDS [serve options...]
#   e.g. eng/count-per-roundtrip.sh 64 64 3                      (the default engine)
#        eng/count-per-roundtrip.sh 64 64 3 --backend epoll-et --dispatch inline
# needs: bash eng/peers/build.sh; dotnet build Proactor.Bench -c Release; perf (run as root)
set -euo pipefail
conns=$1; size=$2; secs=$3; shift 3
root="$(cd "$(dirname "$0")/.." && pwd)"
dll="$root/Proactor.Bench/bin/Release/net10.0/Proactor.Bench.dll"
client="$root/eng/peers/bin/pingpong_client"
log=$(mktemp); perfout=$(mktemp)
DOTNET_TC_DelaySingleProcMultiplier=1 taskset -c 1 dotnet "$dll" serve --port 0 "$@" > "$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; rm -f "$log" "$perfout"' EXIT
for _ in $(seq 300); do grep -q listening "$log" && break; sleep 0.1; done
port=$(grep -m1 listening "$log" | grep -oE '127\.0\.0\.1:[0-9]+' | cut -d: -f2)
taskset -c 0 "$client" "$port" "$conns" 2 "$size" > /dev/null   # warm-up (tiered JIT)
perf stat -x, -o "$perfout" -p "$pid" -e context-switches,task-clock,raw_syscalls:sys_enter,syscalls:sys_enter_write,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_sched_yield,syscalls:sys_enter_epoll_wait -- sleep "$secs" &
perfpid=$!
out=$(taskset -c 0 "$client" "$port" "$conns" "$secs" "$size")
wait $perfpid
rts=$(echo "$out" | grep -oE '[0-9.]+ round trips/s' | grep -oE '^[0-9.]+')
echo "$(grep -m1 listening "$log" | sed 's/.*(\(.*\)).*/\1/'): $out"
awk -F, -v n="$(echo "$rts * $secs" | bc -l)" '$1 ~ /^[0-9.]+$/ { name=$3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "syscalls"; if ($3 == "task-clock") printf "  %-18s %8.2f us per round trip\n", "cpu", $1 * 1000 / n; else printf "  %-18s %8.3f per round trip\n", name, $1 / n }' "$perfout"
