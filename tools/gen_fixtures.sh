#!/bin/sh
# Regenerates every PyTorch reference fixture in tests/fixtures/ (needs Debian's python3-torch:
# tools/install_deps.sh --torch). The fixtures are committed, so CI never needs PyTorch.
set -e
cd "$(dirname "$0")/.."
for script in tools/fixtures/gen_*.py; do
  PYTHONPATH=tools/fixtures /usr/bin/python3 "$script"
done
