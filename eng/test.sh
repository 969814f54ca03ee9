#!/usr/bin/env bash
# Runs every test suite of the repository:
#   - the Linux suites natively (dotnet run on Proactor.Tests, Release);
#   - the Windows suites (the IOCP backend) as a win-x64 self-contained test program under Wine,
#     when Wine is installed; otherwise says plainly that they were not run.
# Ends with the line "N passed, N failed, N skipped" for all suites together and exits non-zero
# if any test failed or a suite did not run to its summary.
set -uo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 skipped=0 broken=0

# The test platform colours its output when it detects a CI service (CI=true and the like), even
# into a pipe; --no-ansi turns that off, and the summary is read from a copy stripped of escapes.
mtp_args=(--no-ansi --progress off)
# Fixtures that need one OS carry its category beside [Platform]; each program leaves out the
# other OS's fixtures rather than reporting them as skipped.
linux_only=(--filter "TestCategory!=Windows")
windows_only=(--filter "TestCategory!=Linux")

# Adds one suite's "total / failed / succeeded / skipped" summary (Microsoft.Testing.Platform).
tally() { # name log exit-code
  local name=$1 log=$2 code=$3 s f k plain
  plain=$(sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$log")
  s=$(grep -aE '^\s*succeeded: [0-9]+' <<<"$plain" | tail -1 | grep -oE '[0-9]+')
  f=$(grep -aE '^\s*failed: [0-9]+' <<<"$plain" | tail -1 | grep -oE '[0-9]+')
  k=$(grep -aE '^\s*skipped: [0-9]+' <<<"$plain" | tail -1 | grep -oE '[0-9]+')
  if [[ -z "$s" || -z "$f" ]]; then
    echo "!! $name: the test program ended (exit $code) without a summary: counted as a failure."
    broken=$((broken + 1)); failed=$((failed + 1)); return
  fi
  passed=$((passed + s)); failed=$((failed + f)); skipped=$((skipped + ${k:-0}))
  if [[ "$code" != 0 && "$f" == 0 ]]; then
    echo "!! $name: exit code $code with no failed test: counted as a failure."
    broken=$((broken + 1)); failed=$((failed + 1))
  fi
  echo "== $name: $s passed, $f failed, ${k:-0} skipped"
}

echo "== Linux suites (native)"
# Each test program runs under an overall limit (a hung test is also named and ended by the
# suite's own per-test watchdog, Infrastructure/HangWatchdog.cs, well before this).
dotnet build Proactor.Tests -c Release -v quiet -nologo > "$work/build.log" 2>&1 || { cat "$work/build.log"; echo "!! the build failed"; echo "0 passed, 1 failed"; exit 1; }
timeout -k 10 1500 dotnet run --no-build --project Proactor.Tests -c Release -- "${mtp_args[@]}" "${linux_only[@]}" 2>&1 | tee "$work/linux.log"
tally "Linux suites" "$work/linux.log" "${PIPESTATUS[0]}"

if command -v wine >/dev/null 2>&1; then
  echo "== Windows suites (win-x64 under Wine)"
  if dotnet publish Proactor.Tests -c Release -r win-x64 --self-contained -o "$work/win" -v quiet -nologo > "$work/publish.log" 2>&1; then
    export WINEDEBUG=-all WINEPREFIX="${PROACTOR_WINEPREFIX:-$HOME/.proactor-wine}"
    # Under Wine the runtime's W^X double mapping of JIT code intermittently crashes the process
    # ("Internal CLR error" in a finalizer); plain RWX pages do not.
    export DOTNET_EnableWriteXorExecute=0
    (cd "$work/win" && timeout 1200 wine ./Proactor.Tests.exe "${mtp_args[@]}" "${windows_only[@]}") 2>&1 | tr -d '\r' | tee "$work/windows.log"
    tally "Windows suites" "$work/windows.log" "${PIPESTATUS[0]}"
  else
    cat "$work/publish.log"
    echo "!! Windows suites: the win-x64 publish failed: counted as a failure."
    failed=$((failed + 1))
  fi
else
  echo "== Windows suites NOT run: Wine is not installed (apt-get install -y wine64; .ci/run does this)."
fi

# Repeat the failed tests' names and first lines of their messages just above the closing line,
# where a CI service that keeps only the end of the output still shows them.
for log in "$work"/linux.log "$work"/windows.log; do
  [[ -f "$log" ]] || continue
  sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$log" | awk -v suite="$(basename "$log" .log)" '
    /!! failed in: / { sub(/^.*!! failed in: /, ""); print "!! " suite ": failed in " $0; next }
    /^failed / { print "!! " suite ": " $0; n = 6; next }
    n > 0 { print "!!   " $0; n-- }'
done

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
