#!/usr/bin/env bash
# Create the benchmark-only virtualenv .venv-bench at the repo root and install
# benchmarks/requirements-bench.txt into it (SB3, SBX, CPU torch).
#
# Idempotent: when the venv already satisfies the pinned requirements nothing is
# installed. Usage: bash benchmarks/setup_bench_env.sh
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${repo_root}/.venv-bench"
requirements="${repo_root}/benchmarks/requirements-bench.txt"
python_bin="${PYTHON:-python3.11}"

if [[ ! -x "${venv}/bin/python" ]]; then
    echo "[setup_bench_env] creating ${venv} with ${python_bin}"
    "${python_bin}" -m venv "${venv}"
fi

# A cheap check first: every pinned package importable at its pinned version.
if "${venv}/bin/python" - "${requirements}" <<'PY'
import sys
from importlib import metadata

ok = True
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, want = line.partition("==")
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        ok = False
        break
    if have.split("+", 1)[0] != want:
        ok = False
        break
sys.exit(0 if ok else 1)
PY
then
    echo "[setup_bench_env] ${venv} already has the pinned packages; nothing to do"
    exit 0
fi

echo "[setup_bench_env] installing ${requirements} into ${venv}"
"${venv}/bin/python" -m pip install --quiet -r "${requirements}"
"${venv}/bin/python" -m pip check
echo "[setup_bench_env] done"
