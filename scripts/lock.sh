#!/usr/bin/env bash
# Re-resolve requirements/*.in into requirements/*.lock in throw-away virtualenvs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pythons.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
freeze() { "$1/bin/pip" freeze --all --exclude-editable | grep -vE '^(-e |pip==)' | sort -f; }
header="# Made by scripts/lock.sh from the .in file of the same name; do not edit by hand."

"$(find_python311)" -m venv "$tmp/app"
"$tmp/app/bin/pip" install -q -U pip wheel setuptools
"$tmp/app/bin/pip" install -q -r requirements/app.in
{ echo "$header"; freeze "$tmp/app"; } > requirements/app.lock
"$tmp/app/bin/pip" install -q -r requirements/dev.in -c requirements/app.lock
{ echo "$header"; freeze "$tmp/app"; } > requirements/dev.lock

"$(find_python310)" -m venv "$tmp/rasa"
"$tmp/rasa/bin/pip" install -q -U pip wheel setuptools
"$tmp/rasa/bin/pip" install -q -r requirements/rasa.in
{ echo "$header"; freeze "$tmp/rasa"; } > requirements/rasa.lock
echo "locks written"
