#!/usr/bin/env bash
# Counts of one Kestrel server (Proactor.Bench http-serve, pinned to CPU 0) per HTTP request under
# wrk (CPU 1): context switches, syscalls by kind, thread-pool work items and bytes allocated, and
# for Proactor the requests its loops handed to the pool at the end of an iteration ("deferred")
# and the work items that ran them ("batches"). Counts move little with machine load; CPU times do.
#
# usage: eng/count-http-per-request.sh SECONDS PATH [WRK-ARGS] -- http-serve options...
#   e.g. eng/count-http-per-request.sh 5 /plaintext -- --transport sockets
#        eng/count-http-per-request.sh 5 /plaintext -- --transport proactor
#        eng/count-http-per-request.sh 5 /plaintext -- --transport proactor --application threadpool
#        eng/count-http-per-request.sh 5 /plaintext "-s /tmp/pipeline.lua" -- --transport proactor
# needs: dotnet build Proactor.Bench -c Release; wrk and perf (run as root)
set -euo pipefail
secs=$1; path=$2; shift 2
wrkextra=""
if [ "$1" != "--" ]; then wrkextra=$1; shift; fi
shift
root="$(cd "$(dirname "$0")/.." && pwd)"
dll="$root/Proactor.Bench/bin/Release/net10.0/Proactor.Bench.dll"
dir=$(mktemp -d); log=$dir/log; perfout=$dir/perf; fifo=$dir/in
mkfifo "$fifo"
taskset -c 0 dotnet "$dll" http-serve --port 0 "$@" > "$log" 2>&1 < "$fifo" &
pid=$!
exec 3>"$fifo"   # the server runs until its stdin closes; "stats" lines ask for its counters
trap 'exec 3>&-; sleep 1; kill -TERM $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 300); do grep -q "http listening" "$log" && break; sleep 0.1; done
port=$(grep -m1 "http listening" "$log" | awk '{print $4}')
# shellcheck disable=SC2086
taskset -c 1 wrk -t1 -c64 -d3s $wrkextra "http://127.0.0.1:$port$path" > /dev/null   # warm-up (tiered JIT)
echo stats >&3; sleep 0.2
perf stat -x, -o "$perfout" -p "$pid" -e context-switches,task-clock,raw_syscalls:sys_enter,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_write,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,syscalls:sys_enter_sched_yield -- sleep "$secs" &
perfpid=$!
# shellcheck disable=SC2086
out=$(taskset -c 1 wrk -t1 -c64 -d"${secs}"s $wrkextra "http://127.0.0.1:$port$path")
wait $perfpid
echo stats >&3; sleep 0.3
reqs=$(echo "$out" | grep -oE '[0-9]+ requests in' | grep -oE '^[0-9]+')
rps=$(echo "$out" | grep -oE 'Requests/sec: *[0-9.]+' | grep -oE '[0-9.]+$')
echo "$* $path: $reqs requests, $rps req/s"
paste <(grep '^stats' "$log" | tail -2 | head -1 | tr ' ' '\n') <(grep '^stats' "$log" | tail -1 | tr ' ' '\n') |
  awk -v n="$reqs" -F'\t' '$1 ~ /=/ { split($1, a, "="); split($2, b, "=");
    if (a[1] == "threads") printf "  %-18s %s\n", "pool threads", b[2];
    else if (a[1] != "gen0") printf "  %-18s %8.3f per request\n", a[1], (b[2] - a[2]) / n }'
awk -F, -v n="$reqs" '$1 ~ /^[0-9.]+$/ { name=$3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "syscalls";
  if ($3 == "task-clock") printf "  %-18s %8.2f us per request (CPU time: moved by machine load)\n", "cpu", $1 * 1000 / n;
  else printf "  %-18s %8.3f per request\n", name, $1 / n }' "$perfout"
