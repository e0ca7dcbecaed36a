# shellcheck shell=bash disable=SC2034
# The demo's settings, read by scripts/demo.sh. Sourced from the repository
# root; also handy by hand, to run `pulumi` against the demo stack:
#
#     source scripts/demo-env.sh && pulumi stack output
#
# Everything the demo keeps (emulator state, Pulumi backend and home) lives in
# .state/demo/, which git ignores; the stack's config is Pulumi.demo.yaml.

DEMO_DIR="$PWD/.state/demo"
DEMO_STACK=demo
# The port of the demo's running emulator, when there is one, else 8080.
DEMO_PORT_FILE="$DEMO_DIR/emulator.port"
DEMO_PORT="${DEMO_PORT:-$(cat "$DEMO_PORT_FILE" 2>/dev/null || echo 8080)}"
DEMO_API_URL="http://127.0.0.1:$DEMO_PORT/v1"
DEMO_ADMIN_URL="http://127.0.0.1:$DEMO_PORT/_emulator"
DEMO_PYTHON="$PWD/.venv/bin/python"
DEMO_EMULATOR="$PWD/.venv/bin/pulumi-infrahub"
DEMO_PID_FILE="$DEMO_DIR/emulator.pid"
DEMO_LOG="$DEMO_DIR/emulator.log"
DEMO_STATE_FILE="$DEMO_DIR/emulator-state.json"

# A local file backend and passphrase secrets: nothing leaves this machine.
# The passphrase only guards the demo's own stack config.
export PULUMI_HOME="$DEMO_DIR/pulumi-home"
export PULUMI_BACKEND_URL="file://$DEMO_DIR/backend"
export PULUMI_CONFIG_PASSPHRASE="infrahub-demo-passphrase"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SUPPRESS_NEO_LINK=true
export PIP_DISABLE_PIP_VERSION_CHECK=1
# The demo talks to the emulator only, whatever account the shell is set up for.
unset PULUMI_ACCESS_TOKEN PULUMI_CONFIG_PASSPHRASE_FILE INFRAHUB_API_KEY \
  INFRAHUB_API_URL HYPERSTACK_API_KEY HYPERSTACK_API_ADDRESS

if [ -x "$DEMO_PYTHON" ]; then
  DEMO_PULUMI_BIN="$(bash scripts/get-pulumi.sh)"
  export PATH="$DEMO_PULUMI_BIN:$PATH"
fi
