#!/usr/bin/env bash
# Every check and test: lint, Rasa data validation, model (trained only if the data changed),
# then pytest (unit, database on SQLite and PostgreSQL, action server, Rasa test stories,
# end to end through the REST channel).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2

if [ ! -x /usr/bin/chromium ]; then
  # the browser tests (web chat) drive Debian's chromium; Playwright never downloads one
  echo "== installing Debian's chromium for the browser tests"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

echo "== ruff"
.venv/bin/ruff check .
echo "== model (reused when config, domain and data are unchanged)"
.venv/bin/nightdesk train
echo "== pytest"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here." >&2
  exit 1
fi
exit "$status"
