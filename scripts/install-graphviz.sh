#!/usr/bin/env bash
# Graphviz's `dot` draws the report's diagrams. Install it where we can; otherwise say how.
set -uo pipefail
if command -v dot >/dev/null 2>&1; then
  exit 0
fi
echo "Graphviz 'dot' not found; installing it..." >&2
if command -v apt-get >/dev/null 2>&1; then
  as_root=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root="sudo -n"; fi
  fi
  if [ "$(id -u)" -eq 0 ] || [ -n "$as_root" ]; then
    $as_root apt-get install -y -qq graphviz >/dev/null 2>&1 \
      || { $as_root apt-get update -qq >/dev/null 2>&1 && $as_root apt-get install -y -qq graphviz >/dev/null 2>&1; }
  fi
elif command -v brew >/dev/null 2>&1; then
  brew install graphviz >/dev/null
elif command -v dnf >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  dnf install -y -q graphviz >/dev/null
fi
if command -v dot >/dev/null 2>&1; then
  echo "Graphviz installed: $(dot -V 2>&1)" >&2
  exit 0
fi
cat >&2 <<'MSG'
warning: could not install Graphviz automatically. carveout still runs, but the report's
diagrams are replaced by a note and the diagram tests fail. Install it, then rerun:
  Debian/Ubuntu:  sudo apt-get install graphviz
  Fedora:         sudo dnf install graphviz
  macOS:          brew install graphviz
  Windows:        winget install graphviz   (or https://graphviz.org/download/)
MSG
exit 0
