#!/usr/bin/env bash
# Every check and test: lint, the import contracts, the unit tests beside the model's
# training (trained only if the data changed), then pytest (database on SQLite and PostgreSQL,
# action server, Rasa test stories, end to end through the REST channel), the trainer's whole
# loop beside the rest.
# `scripts/test.sh <pytest arguments>` runs just that selection (after lint and the model).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2

# Debian's packages the tests drive: chromium for the browser tests (web chat; Playwright
# never downloads one), haproxy for the load balancer's (deploy/haproxy, up --processes)
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing Debian's ${missing[*]} for the tests"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== ruff"
.venv/bin/ruff check .
echo "== import contracts (pyproject.toml [tool.importlinter])"
.venv/bin/lint-imports
# pytest's exit status, where 5 (no tests collected) is a failure too
checked() {
  if [ "$1" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here." >&2
    return 1
  fi
  return "$1"
}

if [ "$#" -gt 0 ]; then  # a developer's selection: the model, then just that
  echo "== model (reused when config, domain and data are unchanged)"
  .venv/bin/nightdesk train
  echo "== pytest $*"
  set +e
  .venv/bin/python -m pytest "$@"
  status=$?
  set -e
  checked "$status"
  exit $?
fi

# The unit tests need no model: they run while it trains, which keeps about one of the two
# cores busy (TensorFlow's threads are not all busy at once; the featurizers, the graph
# around DIET and saving the model use one). At a lower CPU priority than the training,
# which everything after it waits for.
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT  # an interrupted run leaves nothing behind
echo "== pytest tests/unit in the background, the model now"
set +e
nice -n 5 .venv/bin/python -m pytest tests/unit -p no:cacheprovider \
  --basetemp="$work/unit-tmp" >"$work/unit-log" 2>&1 &
unit_pid=$!
pids+=("$unit_pid")
set -e
echo "== model (reused when config, domain and data are unchanged)"
.venv/bin/nightdesk train

# The trainer's whole loop (two trainings, about 20 minutes, mostly one core) runs beside
# the rest, at a lower CPU priority so the servers the other tests start are not kept waiting.
# Its ports, database and temporary files are its own, so it may start before the unit tests
# end; the rest shares PostgreSQL's database `test` and Redis with them, so it waits.
LOOP=tests/integration/test_trainer_loop.py
echo "== pytest: $LOOP in the background"
set +e
nice -n 10 .venv/bin/python -m pytest "$LOOP" -p no:cacheprovider \
  --basetemp="$work/loop-tmp" >"$work/loop-log" 2>&1 &
loop_pid=$!
pids+=("$loop_pid")
wait "$unit_pid"
unit_status=$?
echo "== pytest tests/unit (ran beside the training)"
cat "$work/unit-log"
echo "== pytest: the rest, now"
.venv/bin/python -m pytest --ignore=tests/unit --ignore="$LOOP"
status=$?
wait "$loop_pid"
loop_status=$?
set -e
echo "== pytest: $LOOP"
cat "$work/loop-log"
rm -rf "$work"
checked "$unit_status" && checked "$status" && checked "$loop_status"
