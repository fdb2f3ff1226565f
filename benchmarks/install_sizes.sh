#!/usr/bin/env bash
# Disk size of a fresh virtual environment holding simreport (core), and what each extra adds.
# Usage: bash benchmarks/install_sizes.sh [PYTHON]   (default: Debian's /usr/bin/python3)
# Prints one line per install: MB on disk of the venv, and MB over the core install.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${1:-/usr/bin/python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pip wheel -q --no-deps -w "$work/wheel" . >/dev/null
wheel="$(ls "$work"/wheel/simreport-*.whl)"

size() { du -sm "$1" | cut -f1; }

"$py" -m venv "$work/empty"
empty=$(size "$work/empty")

measure() {  # name, then pip arguments
  local name="$1"; shift
  "$py" -m venv "$work/$name"
  "$work/$name/bin/python" -m pip install -q "$@" >/dev/null
  echo "$name $(( $(size "$work/$name") - empty ))"
}

core=$(measure core "$wheel" | cut -d' ' -f2)
printf '%-10s %6s MB\n' core "$core"
for extra in dask mlflow validmind; do
  total=$(measure "$extra" "$wheel[$extra]" | cut -d' ' -f2)
  printf '%-10s %6s MB total, +%s MB over core\n' "[$extra]" "$total" "$(( total - core ))"
done
# models: the CPU build of torch first, as the README says
"$py" -m venv "$work/models"
"$work/models/bin/python" -m pip install -q torch==2.13.0 >/dev/null
"$work/models/bin/python" -m pip install -q "$wheel[models]" >/dev/null
total=$(( $(size "$work/models") - empty ))
printf '%-10s %6s MB total, +%s MB over core (torch 2.13.0 CPU included)\n' "[models]" "$total" "$(( total - core ))"
printf '(an empty venv: %s MB, not counted)\n' "$empty"
