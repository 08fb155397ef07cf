# Finding the two Pythons; sourced by setup.sh and lock.sh.
# A python that really runs (pyenv shims exist on PATH even when the version is not selected).
works() { "$1" -c 'import sys, venv' >/dev/null 2>&1; }

find_python311() {
  for candidate in python3.11 python3 python3.12 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1 && works "$candidate" \
       && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

find_python310() {
  if command -v python3.10 >/dev/null 2>&1 && works python3.10; then
    command -v python3.10; return 0
  fi
  if command -v pyenv >/dev/null 2>&1; then
    local prefix
    prefix=$(pyenv prefix 3.10 2>/dev/null | head -n 1) || true
    if [ -n "$prefix" ] && works "$prefix/bin/python3.10"; then
      echo "$prefix/bin/python3.10"; return 0
    fi
  fi
  return 1
}

