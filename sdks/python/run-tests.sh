#!/usr/bin/env bash
# The Python SDK's tests, against the built CLI (packages/cli/dist/bin.js) and the SDK as pip
# installs it: the wheel is built offline by the in-tree backend, installed into a temporary
# directory, and tested from there. Ends with `python: N passed, N failed, N skipped`.
#
#   sdks/python/run-tests.sh [-v] [test_module …]      (PYTHON=python3.9 to pick an interpreter)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"

if [ ! -f "$root/packages/cli/dist/bin.js" ]; then
  echo "run-tests.sh: $root/packages/cli/dist/bin.js is missing: build the CLI first (npx -y pnpm@10 --filter @kvlar/cli build)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PYTHONDONTWRITEBYTECODE=1
"$python" -m pip install --quiet --no-index --no-deps --disable-pip-version-check \
  --root-user-action=ignore --target "$work/site" "$here"
PYTHONPATH="$work/site" "$python" "$here/tests/run.py" "$@"
