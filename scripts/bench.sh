#!/usr/bin/env bash
# Measures what people wait for and prints a table of medians:
#   - setup (first run, re-run), doctor online and audit of 100 roles against
#     moto, the fake GitLab and a TLS issuer behind 50 ms latency proxies:
#     calls, waves, required chain, critical path, wall time, wall/critical
#     (internal/bench, see its package comment for how the critical path is
#     derived from the proxies' traces);
#   - offline doctor on a typical input, `gitlab-oidc --version`, and the
#     time to the wizard's first frame (setup --demo in tmux), as medians of
#     repeated runs of the built binary.
# Usage: scripts/bench.sh            (make bench builds bin/gitlab-oidc first)
# Env:   GITLAB_OIDC_BIN  binary to time (default bin/gitlab-oidc)
#        REPS             repetitions of the flows (default 5)
#        RUNS             repetitions of the binary timings (default 21)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${GITLAB_OIDC_BIN:-bin/gitlab-oidc}
REPS=${REPS:-5}
RUNS=${RUNS:-21}
GO=${GO:-go}
[[ -x $BIN ]] || $GO build -trimpath -o "$BIN" ./cmd/gitlab-oidc

now_ns() { date +%s%N; }
# median reads numbers, one a line, and prints the median.
median() { sort -n | awk '{v[NR]=$1} END {if (NR==0) {print "n/a"; exit} m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.1f\n", m}'; }
# time_ms runs a command RUNS times and prints the median wall time in ms.
time_ms() {
  for _ in $(seq "$RUNS"); do
    local t0; t0=$(now_ns)
    "$@" >/dev/null 2>&1 || true
    echo $(( ($(now_ns) - t0) / 1000 ))
  done | median | awk '{printf "%.1f\n", $1/1000}'
}

echo "== flows behind ${REPS}x 50 ms latency proxies (medians) =="
flows=$(GITLAB_OIDC_BENCH_FLOWS=1 GITLAB_OIDC_BENCH_REPS=$REPS \
  $GO test -count=1 -run '^$' -bench '^Benchmark(Flows|Audit100)$' -benchtime 1x -timeout 30m ./internal/bench)
grep -E '^(FLOW|  )' <<<"$flows" | sed -e 's/^FLOW //'

echo
echo "== offline and start-up (medians of $RUNS runs of $BIN) =="
data=internal/bench/testdata/doctor-offline
doctor=("$BIN" doctor --offline --no-tui --token-file "$data/token.jwt" --job-log "$data/job.log"
  --trust-policy "$data/trust.json" --ci-file "$data/gitlab-ci.yml" --provider-url https://gitlab.com
  --client-id sts.amazonaws.com --role-arn arn:aws:iam::123456789012:role/gitlab-ci-acme-payments)
printf '%-34s %8s ms\n' "doctor --offline (typical input)" "$(time_ms "${doctor[@]}")"
printf '%-34s %8s ms\n' "gitlab-oidc --version" "$(time_ms "$BIN" --version)"
inproc=$($GO test -count=1 -run '^$' -bench '^BenchmarkDoctorOffline$' -benchtime 200x ./internal/bench | awk '/^BenchmarkDoctorOffline/ {printf "%.2f", $3/1e6}')
printf '%-34s %8s ms\n' "doctor offline in-process (Go)" "$inproc"

# first_frame starts the wizard in a fresh tmux pane and prints the ms until
# the pane shows $1.
first_frame() {
  local want=$1 session="gitlab-oidc-bench-$$" t0 out=""
  t0=$(now_ns)
  tmux new-session -d -s "$session" -x 120 -y 40 "$BIN setup --demo"
  for _ in $(seq 2000); do
    out=$(tmux capture-pane -p -t "$session" 2>/dev/null || true)
    [[ $out == *"$want"* ]] && break
    sleep 0.002
  done
  local t1; t1=$(now_ns)
  tmux kill-session -t "$session" 2>/dev/null || true
  [[ $out == *"$want"* ]] || { echo "n/a"; return; }
  echo $(( (t1 - t0) / 1000 ))
}
if command -v tmux >/dev/null; then
  for what in "gitlab-oidc · setup" "Press enter"; do
    v=$(for _ in $(seq "$RUNS"); do first_frame "$what"; done | grep -v n/a | median | awk '{printf "%.1f\n", $1/1000}')
    label="wizard: first frame"
    [[ $what == "Press enter" ]] && label="wizard: connected (demo)"
    printf '%-34s %8s ms\n' "$label" "$v"
  done
else
  echo "tmux not installed: wizard first frame not measured"
fi
