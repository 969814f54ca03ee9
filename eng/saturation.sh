#!/usr/bin/env bash
# Server CPU per round trip at saturation: the C ping-pong client (CPU 0) drives each echo server
# (pinned to CPU 1) as fast as it answers, in interleaved rounds (A B C A B C …), and perf stat
# counts the server's task-clock. The runner's `compare` measures at the load its own generator
# makes; this is the other end of the scale, where every wake-up of the server finds more work.
#
# usage: eng/saturation.sh ROUNDS CONNECTIONS SECONDS NAME=COMMAND [NAME=COMMAND ...]
#   COMMAND is an echo server's command line with {port} where the port goes, e.g.
#   eng/saturation.sh 3 64 3 \
#     "epoll-et/inline=dotnet Proactor.Bench/bin/Release/net10.0/Proactor.Bench.dll serve --backend epoll-et --dispatch inline --port {port}" \
#     "libuv=eng/peers/bin/uv_echo {port}" "epoll_c=eng/peers/bin/epoll_echo {port}"
# Prints each round's figures, then per server the median (min–max) of µs per round trip, of the
# part of it spent in the kernel, and of round trips/s, and each server's median ratio to the first
# server named. The kernel's part divides the task-clock figure in the proportion of the server's
# system to user time (/proc/PID/stat, in clock ticks) over the same window.
# needs: bash eng/peers/build.sh; dotnet build Proactor.Bench -c Release; perf (run as root)
set -euo pipefail
if [ $# -lt 4 ]; then sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi
rounds=$1; conns=$2; secs=$3; shift 3
root="$(cd "$(dirname "$0")/.." && pwd)"
client="$root/eng/peers/bin/pingpong_client"
[ -x "$client" ] || { echo "saturation.sh: $client is missing; run: bash eng/peers/build.sh" >&2; exit 2; }
command -v perf > /dev/null || { echo "saturation.sh: perf is missing (apt-get install -y linux-perf)" >&2; exit 2; }
cd "$root"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
port=$((20000 + RANDOM % 20000))
# As the runner starts its servers: pinned to one CPU the runtime otherwise multiplies its tiering
# delay, and a .NET server still runs unoptimized code after the 2 s warm-up.
export DOTNET_TC_DelaySingleProcMultiplier=1

wait_for_port() {
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
        sleep 0.1
    done
    return 1
}

for round in $(seq "$rounds"); do
    for spec in "$@"; do
        name=${spec%%=*}; cmd=${spec#*=}
        port=$((port + 1))
        # shellcheck disable=SC2086 # the command is split into words on purpose
        taskset -c 1 ${cmd//\{port\}/$port} > /dev/null 2>&1 &
        pid=$!
        if ! wait_for_port "$port"; then echo "saturation.sh: $name did not listen on $port" >&2; kill $pid; exit 1; fi
        taskset -c 0 "$client" "$port" "$conns" 2 > /dev/null       # warm-up (tiered JIT)
        perfout=$(mktemp)
        perf stat -x, -o "$perfout" -p "$pid" -e task-clock -- sleep "$secs" &
        perfpid=$!
        read -r user0 sys0 < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
        out=$(taskset -c 0 "$client" "$port" "$conns" "$secs")
        read -r user1 sys1 < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
        wait $perfpid
        kill -TERM $pid 2> /dev/null || true
        wait $pid 2> /dev/null || true
        rts=$(echo "$out" | grep -oE '[0-9.]+ round trips/s' | grep -oE '^[0-9.]+')
        us=$(awk -F, -v n="$(echo "$rts * $secs" | bc -l)" '$3 == "task-clock" { printf "%.2f", $1 * 1000 / n }' "$perfout")
        rm -f "$perfout"
        kus=$(awk -v us="$us" -v u=$((user1 - user0)) -v s=$((sys1 - sys0)) 'BEGIN { printf "%.2f", (u + s > 0 ? us * s / (u + s) : 0) }')
        printf 'round %d  %-24s %10.0f round trips/s  %7s µs CPU per round trip, %s in the kernel\n' "$round" "$name" "$rts" "$us" "$kus"
        echo "$round $name $rts $us $kus" >> "$results"
    done
done

echo
first=${1%%=*}
printf '%-24s %-26s %-26s %-26s %s\n' server "µs per round trip" "of which kernel" "round trips/s" "CPU ×$first"
for spec in "$@"; do
    name=${spec%%=*}
    awk -v name="$name" -v first="$first" '
        function median(a, n,   i, j, t) {
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        $2 == first { base[$1] = $4 }
        $2 == name { n++; us[n] = $4; rt[n] = $3; round[n] = $1; ks[n] = $5 }
        END {
            for (i = 1; i <= n; i++) { r[i] = us[i] / base[round[i]]; u[i] = us[i]; t[i] = rt[i]; k[i] = ks[i] }
            mu = median(u, n); mt = median(t, n); mr = median(r, n); mk = median(k, n)
            printf "%-24s %6.2f (%.2f–%.2f)        %6.2f (%.2f–%.2f)        %6.1f k (%.1f–%.1f)      %.2f× (%.2f–%.2f)\n", name, mu, u[1], u[n], mk, k[1], k[n], mt / 1000, t[1] / 1000, t[n] / 1000, mr, r[1], r[n]
        }' "$results"
done
