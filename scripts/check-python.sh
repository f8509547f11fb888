#!/usr/bin/env bash
# carveout needs Python 3.10 or newer to run (the code it reads may be any Python 3).
set -euo pipefail
python=${1:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: '$python' not found; install Python 3.10+ or run: make PYTHON=/path/to/python3.11 ..." >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "error: $("$python" --version 2>&1) is too old; carveout needs Python 3.10+ (make PYTHON=python3.12 ...)" >&2
  exit 1
fi
