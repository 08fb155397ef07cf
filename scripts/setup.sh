#!/usr/bin/env bash
# Set up both runtimes on a fresh clone; cheap on a second call.
#   scripts/setup.sh          app runtime (.venv, Python 3.11) + Rasa runtime (.venv-rasa, Python 3.10)
#   scripts/setup.sh --dev    the same plus test and lint extras
# Each virtualenv is (re)synced only when its lock file changed (hash kept in the venv).
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

source scripts/pythons.sh

lock_hash() { cat "$@" | sha256sum | cut -c1-16; }

# sync_venv DIR PYTHON LOCKFILE...: create DIR if missing, install the lock files when they changed.
sync_venv() {
  local dir=$1 python=$2; shift 2
  local want; want=$(lock_hash "$@" pyproject.toml)
  if [ -f "$dir/.uyum-lock" ] && [ "$(cat "$dir/.uyum-lock")" = "$want" ]; then
    return 0
  fi
  if [ ! -x "$dir/bin/python" ]; then
    say "creating $dir with $python"
    "$python" -m venv "$dir"
  fi
  say "installing $* into $dir (a few minutes the first time)"
  # only pip is upgraded here: the lock files pin setuptools where a runtime needs an old one (Rasa)
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  for lock in "$@"; do
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock" 2>&1 \
      | grep -v '^WARNING: Location' || true
    "$dir/bin/python" -m pip check >/dev/null 2>&1 || true
  done
  # pip's exit status is hidden by the filter above: verify the pins really are installed.
  "$dir/bin/python" - "$@" <<'PY' || die "installing into $dir failed; run again to see pip's output"
import sys
from importlib.metadata import PackageNotFoundError, version
missing = []
for lock in sys.argv[1:]:
    for line in open(lock, encoding="utf-8"):
        line = line.split("#")[0].strip()
        if not line or line.startswith("-") or "==" not in line:
            continue
        name = line.split("==")[0].split("[")[0]
        try:
            version(name)
        except PackageNotFoundError:
            missing.append(name)
if missing:
    print("missing after install:", ", ".join(missing[:10]), file=sys.stderr)
    sys.exit(1)
PY
  echo "$want" > "$dir/.uyum-lock"
}

PY310=$(find_python310) || die "Python 3.10 is required for the Rasa runtime (Rasa 3.6 supports nothing newer): install it ('pyenv install 3.10' or your system's python3.10 package) and run again."
PY311=$(find_python311) || die "Python 3.11 or newer is required for the app runtime; install it (e.g. 'pyenv install 3.11') and run again."

if [ "$dev" = 1 ]; then
  sync_venv .venv "$PY311" requirements/app.lock requirements/dev.lock
else
  sync_venv .venv "$PY311" requirements/app.lock
fi
# the project itself, editable, without touching the pinned dependencies
if [ ! -x .venv/bin/uyum ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 | grep -v '^WARNING: Location' || true
  [ -x .venv/bin/uyum ] || die "installing the uyum command into .venv failed"
fi
sync_venv .venv-rasa "$PY310" requirements/rasa.lock
