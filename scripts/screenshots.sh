#!/usr/bin/env bash
# Renders real screens of the demo wizard to screenshots/*.png: tmux runs
# bin/gitlab-oidc, capture-pane keeps the colours, freeze draws the PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./bin/gitlab-oidc}
FREEZE=${FREEZE:-./bin/freeze}
OUT=screenshots
SOCK="gitlab-oidc-shots-$$"
mkdir -p "$OUT"
tmux_() { tmux -L "$SOCK" "$@"; }
trap 'tmux_ kill-server 2>/dev/null || true' EXIT

wait_for() { # text, seconds
  local deadline=$((SECONDS + ${2:-10}))
  until tmux_ capture-pane -p -t main | grep -qF -- "$1"; do
    if ((SECONDS > deadline)); then echo "screen never showed: $1" >&2; tmux_ capture-pane -p -t main >&2; exit 1; fi
    sleep 0.1
  done
}

shot() { # name
  local raw
  raw=$(mktemp)
  tmux_ capture-pane -e -p -t main >"$raw"
  "$FREEZE" --language ansi --window --theme dracula --padding 20 --margin 0 --font.size 14 \
    --background "#1e1e2e" -o "$OUT/$1.png" "$raw" >/dev/null
  rm -f "$raw"
  echo "wrote $OUT/$1.png"
}

start() { # command
  tmux_ -f /dev/null new-session -d -s main -x 100 -y 32 -e TERM=xterm-256color -e COLORTERM=truecolor "$1; sleep 120"
}

start "$BIN setup --demo"
wait_for "Already there" 15;          shot setup-connect
tmux_ send-keys -t main Enter;  wait_for "Which jobs may use"; shot setup-access
tmux_ send-keys -t main Enter;  wait_for "Managed policies";   shot setup-permissions
tmux_ send-keys -t main Tab Enter; wait_for "press enter to apply" 15; shot setup-review
tmux_ send-keys -t main Enter;  wait_for "Applying the plan"; sleep 0.8; shot setup-apply
wait_for "Setup complete" 15;   shot setup-done
tmux_ kill-server

start "$BIN doctor --demo"
wait_for "Issuer" 15;               shot doctor-evidence
tmux_ send-keys -t main Enter;      wait_for "Findings, most likely"; shot doctor-diagnosis
tmux_ send-keys -t main Enter;      wait_for "first difference";      shot doctor-detail
tmux_ kill-server || true

start "$BIN audit --demo"
wait_for "Who can assume it" 15;    shot audit
tmux_ send-keys -t main Enter;      wait_for "finding";               shot audit-role
