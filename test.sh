#!/usr/bin/env bash
# Runs every test of Whisper and prints one summary line: "N passed, N failed, N skipped".
# It installs and starts whatever the tests need, and stops it again at the end.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Result files stay in TestResults/ (git-ignored) so that a red run can be read afterwards.
results=$PWD/TestResults/$(date -u +%Y%m%dT%H%M%S)
mkdir -p "$results"
. tests/services.sh
trap 'stop_services' EXIT
status=0
runner_failures=0

# A runner that exits non-zero with no failed test (a fixture's cleanup threw, a host crashed) still fails the run.
ran() { [ "$1" -eq 0 ] || { status=1; runner_failures=$((runner_failures + 1)); }; }

echo "== build"
dotnet build Whisper.slnx -c Release -nologo -v quiet || exit 1

echo "== web client unit tests (Vitest)"
# The build above ran npm ci for the web client.
(cd src/web && npx vitest run --reporter=default --reporter=junit --outputFile.junit="$results/web.junit.xml"); ran $?

echo "== server integration tests (SQLite)"
# A hung test fails the run after 5 minutes instead of stalling CI. The fault tests (Faults/) of both
# server passes add one row each to reliability.md, printed at the end.
# The hostile-input families (Security/) add one row each to security-<pass>.md.
WHISPER_RELIABILITY_REPORT=$results/reliability.md WHISPER_SECURITY_REPORT=$results/security-sqlite.md \
dotnet test tests/Whisper.Server.Tests -c Release --no-build --blame-hang-timeout 5m \
  --logger "trx;LogFilePrefix=server" --logger "console;verbosity=minimal" --results-directory "$results"; ran $?

echo "== browser tests (Playwright driving Debian's Chromium)"
command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; } || exit 1
dotnet test tests/Whisper.E2E -c Release --no-build --blame-hang-timeout 5m \
  --logger "trx;LogFilePrefix=e2e" --logger "console;verbosity=minimal" --results-directory "$results"; ran $?

echo "== server integration tests again, scaled out: PostgreSQL, Redis and S3 (private instances on loopback)"
install_missing && start_postgres && start_redis && start_s3 || { echo "could not start PostgreSQL, Redis and S3"; exit 1; }
# Configured as an operator would, through the environment; the two-node tests run in this pass.
Whisper__Redis=$WHISPER_TEST_REDIS Whisper__Storage__Provider=S3 Whisper__Storage__ServiceUrl=$WHISPER_TEST_S3 \
Whisper__Storage__AccessKey=S3RVER Whisper__Storage__SecretKey=S3RVER \
WHISPER_RELIABILITY_REPORT=$results/reliability.md WHISPER_SECURITY_REPORT=$results/security-scaled-out.md dotnet test tests/Whisper.Server.Tests -c Release --no-build --blame-hang-timeout 5m \
  --logger "trx;LogFilePrefix=postgres" --logger "console;verbosity=minimal" --results-directory "$results"; ran $?

echo "== benchmark harness smoke run (bench/run.sh --quick)"
bench/run.sh --quick; ran $?

echo
echo "== reliability under faults ($results/reliability.md)"
if [ -s "$results/reliability.md" ]; then cat "$results/reliability.md"; else echo "(no fault test wrote a row)"; fi
for pass in sqlite scaled-out; do
  echo
  echo "== hostile input, $pass pass ($results/security-$pass.md)"
  echo "| family | cases tried | failures |"
  echo "|---|---:|---:|"
  cat "$results/security-$pass.md" 2>/dev/null || echo "(no family wrote a row)"
done

# One closing line over every runner's results: .NET's TRX counters and Vitest's JUnit totals.
read -r passed failed skipped < <({
  cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' | sed 's/<Counters/dotnet/'
  cat "$results"/*.junit.xml 2>/dev/null | grep -o '<testsuites [^>]*>' | head -n 1 | sed 's/<testsuites/junit/'
} | awk '
  { for (i = 2; i <= NF; i++) { split($i, kv, "=\""); sub(/".*/, "", kv[2]); v[kv[1]] = kv[2] + 0 } }
  $1 == "dotnet" { p += v["passed"]; f += v["failed"] + v["error"] + v["timeout"] + v["aborted"]; s += v["total"] - v["executed"] }
  $1 == "junit"  { f += v["failures"] + v["errors"]; s += v["skipped"]; p += v["tests"] - v["failures"] - v["errors"] - v["skipped"] }
  { delete v }
  END { printf "%d %d %d\n", p, f, s }')
echo
# A runner that failed without a failed test counts as a failure, so the line never says "0 failed" on a red run.
[ "${failed:-0}" -eq 0 ] && failed=$runner_failures
echo "${passed:-0} passed, ${failed} failed, ${skipped:-0} skipped"
[ "$runner_failures" -eq 0 ] || echo "($runner_failures runner(s) exited non-zero; see $results)"
[ "${passed:-0}" -gt 0 ] || status=1
[ "${failed:-0}" -eq 0 ] || status=1
exit $status
