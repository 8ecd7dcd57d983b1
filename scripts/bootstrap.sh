#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned dependencies and nightdesk itself.
# Used by `make run` and `make test`; safe to run again (it only reinstalls when pins change).
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  if command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    command -v python3.10; return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    local root version
    root=$(pyenv root)
    version=$(ls "$root/versions" 2>/dev/null | grep -E '^3\.10\.[0-9]+$' | sort -t. -k3 -n | tail -1 || true)
    if [ -n "$version" ] && [ -x "$root/versions/$version/bin/python3.10" ]; then
      echo "$root/versions/$version/bin/python3.10"; return
    fi
  fi
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  if ! PYTHON=$(find_python); then
    cat >&2 <<'MSG'
nightdesk needs Python 3.10 (Rasa 3.6 does not run on newer Pythons), and none was found.
Install it, then run the command again:
  - with pyenv:   pyenv install 3.10
  - on Debian/Ubuntu: sudo apt-get install python3.10 python3.10-venv
  - on macOS:     brew install python@3.10
MSG
    exit 1
  fi
  echo "Creating .venv with $PYTHON"
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.nightdesk-installed
wanted=$(cat requirements.txt requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "Installing pinned dependencies (Rasa takes a few minutes the first time)..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -c requirements.lock -r requirements.txt
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$wanted" > "$stamp"
fi
[ -f .env ] || cp .env.example .env
