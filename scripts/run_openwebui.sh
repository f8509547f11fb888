#!/usr/bin/env bash
# Run carveout on Open WebUI 0.12.4 (code read from the published wheel, never
# installed or executed). Run from the repository root.
set -euo pipefail

VERSION="0.12.4"
WHEEL_DIR=".work/wheels"
WHEEL="${WHEEL_DIR}/open_webui-${VERSION}-py3-none-any.whl"
SRC_DIR=".work/open-webui-${VERSION}"
OUT_DIR="reports/open-webui"

if [[ ! -f pyproject.toml || ! -d src/carveout ]]; then
    echo "run this script from the carveout repository root" >&2
    exit 2
fi

mkdir -p "${WHEEL_DIR}"
if [[ -f "${WHEEL}" ]]; then
    echo "wheel already present: ${WHEEL}"
else
    .venv/bin/pip download "open-webui==${VERSION}" --no-deps -d "${WHEEL_DIR}"
fi

if [[ -d "${SRC_DIR}/open_webui" ]]; then
    echo "already unpacked: ${SRC_DIR}"
else
    mkdir -p "${SRC_DIR}"
    .venv/bin/python -m zipfile -e "${WHEEL}" "${SRC_DIR}/"
fi

TIMEFORMAT='carveout analyze took %R s'
time .venv/bin/carveout analyze "${SRC_DIR}" --out "${OUT_DIR}"
