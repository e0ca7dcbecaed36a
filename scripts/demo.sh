#!/usr/bin/env bash
# The demo: a real `pulumi up` of examples/quickstart against the emulator.
#
#     scripts/demo.sh up     (make demo)
#     scripts/demo.sh down   (make demo-down)
#
# `up` starts the emulator in the background (or reuses the one already
# running, or restarts it from its saved state), creates the local-backend
# stack `demo` on first use, runs `pulumi up --yes`, then prints the stack
# outputs and what the emulator holds. Run again, it changes nothing.
#
# `down` destroys the stack, removes it, stops the emulator and deletes
# .state/demo, so that the next `up` starts afresh. The destroy needs the
# emulator, so one is started from the saved state if none is running; when
# the destroy fails, everything is left as it is, to look into or retry.
#
# Both expect .venv with the package installed (`make install`).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

emulator_pid() {
  # Prints the recorded pid when that process is alive and is our emulator.
  [ -f "$DEMO_PID_FILE" ] || return 1
  local pid
  pid="$(cat "$DEMO_PID_FILE")"
  kill -0 "$pid" 2>/dev/null || return 1
  ps -p "$pid" -o args= | grep -q "pulumi-infrahub emulator" || return 1
  echo "$pid"
}

start_emulator() {
  local pid running_port
  if pid="$(emulator_pid)"; then
    running_port="$(cat "$DEMO_PORT_FILE" 2>/dev/null || echo 8080)"
    if [ "$running_port" != "$DEMO_PORT" ]; then
      # Two emulators on one state file would each overwrite the other's.
      echo "The demo's emulator already runs on port $running_port (pid $pid)," \
        "not $DEMO_PORT. Run \`make demo-down\` first to move it, or leave" \
        "DEMO_PORT unset." >&2
      exit 1
    fi
  fi
  if pid="$(emulator_pid)" && "$DEMO_PYTHON" scripts/demo_emulator.py up "$DEMO_ADMIN_URL"; then
    say "Emulator already running at $DEMO_API_URL (pid $pid)"
    return
  fi
  if "$DEMO_PYTHON" scripts/demo_emulator.py up "$DEMO_ADMIN_URL"; then
    echo "Port $DEMO_PORT already serves an emulator that this checkout did not" \
      "start. Stop it, or run again with DEMO_PORT=<free port>." >&2
    exit 1
  fi
  if [ -f "$DEMO_STATE_FILE" ]; then
    say "Restarting the emulator from its saved state ($DEMO_STATE_FILE)"
  else
    say "Starting the emulator at $DEMO_API_URL"
  fi
  # Default (demo) delays: a VM takes a few seconds to boot and a couple more
  # to get its public IP, as on the real API, only faster.
  nohup "$DEMO_EMULATOR" emulator --port "$DEMO_PORT" \
    --state-file "$DEMO_STATE_FILE" >>"$DEMO_LOG" 2>&1 </dev/null &
  echo $! >"$DEMO_PID_FILE"
  echo "$DEMO_PORT" >"$DEMO_PORT_FILE"
  if ! "$DEMO_PYTHON" scripts/demo_emulator.py wait "$DEMO_ADMIN_URL" --pid $!; then
    echo "The emulator did not start; the end of $DEMO_LOG says:" >&2
    tail -n 5 "$DEMO_LOG" >&2
    echo "If port $DEMO_PORT is taken, run again with DEMO_PORT=<free port>." >&2
    kill "$(cat "$DEMO_PID_FILE")" 2>/dev/null || true
    rm -f "$DEMO_PID_FILE" "$DEMO_PORT_FILE"
    exit 1
  fi
  echo "Emulator pid $(cat "$DEMO_PID_FILE"), log $DEMO_LOG"
}

stop_emulator() {
  local pid
  pid="$(emulator_pid)" || return 0
  say "Stopping the emulator (pid $pid)"
  kill "$pid"
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
}

demo_key() {
  "$DEMO_PYTHON" -c \
    'from pulumi_infrahub.emulator.settings import DEMO_API_KEY; print(DEMO_API_KEY)'
}

ensure_stack() {
  if pulumi stack select "$DEMO_STACK" >/dev/null 2>&1; then
    say "Using stack '$DEMO_STACK' (backend $PULUMI_BACKEND_URL)"
  else
    say "Creating stack '$DEMO_STACK' (backend $PULUMI_BACKEND_URL)"
    # Config left from an earlier backend would hold another salt.
    rm -f "Pulumi.$DEMO_STACK.yaml"
    pulumi stack init "$DEMO_STACK" --secrets-provider passphrase
  fi
  pulumi config set infrahub:apiUrl "$DEMO_API_URL"
  if ! pulumi config get infrahub:apiKey >/dev/null 2>&1; then
    pulumi config set --secret infrahub:apiKey "$(demo_key)"
  fi
}

demo_up() {
  mkdir -p "$DEMO_DIR/backend"
  start_emulator
  ensure_stack

  say "pulumi up --yes (examples/quickstart)"
  pulumi up --yes --stack "$DEMO_STACK"

  say "Stack outputs"
  pulumi stack output --stack "$DEMO_STACK"

  say "What the emulator now holds"
  "$DEMO_PYTHON" scripts/demo_emulator.py show "$DEMO_ADMIN_URL"

  say "Done"
  local key
  key="$(demo_key)"
  cat <<MESSAGE
The emulator keeps running at $DEMO_API_URL and saves its state to
$DEMO_STATE_FILE. The demo tenant's API key is:

    $key

Call the API yourself:  curl -H 'api_key: $key' $DEMO_API_URL/core/virtual-machines
Run pulumi by hand:     source scripts/demo-env.sh && pulumi preview
Tear it all down:       make demo-down
MESSAGE
}

demo_down() {
  if pulumi stack select "$DEMO_STACK" >/dev/null 2>&1; then
    start_emulator
    say "pulumi destroy --yes"
    pulumi destroy --yes --stack "$DEMO_STACK"
    say "What the emulator still holds"
    "$DEMO_PYTHON" scripts/demo_emulator.py show "$DEMO_ADMIN_URL"
    # Also deletes Pulumi.demo.yaml.
    pulumi stack rm --yes "$DEMO_STACK"
  else
    echo "No stack '$DEMO_STACK' in $PULUMI_BACKEND_URL; nothing to destroy."
  fi
  stop_emulator
  rm -rf "$DEMO_DIR"
  say "Demo taken down: stack removed, emulator stopped, .state/demo deleted."
}

case "${1:-}" in
  up | down) ;;
  *)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
if [ ! -x .venv/bin/python ]; then
  echo "The demo runs from .venv; create it with \`make install\` first." >&2
  exit 1
fi
if [ "$1" = down ] && [ ! -d .state/demo ]; then
  echo "No demo to take down (.state/demo does not exist)."
  exit 0
fi

source scripts/demo-env.sh
"demo_$1"
