#!/usr/bin/env bash
# libiscsi's iscsi-test-cu against copylab's iSCSI target and Debian's tgtd, side by side.
# Needs: apt-get install -y --no-install-recommends libiscsi-bin tgt
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
exec node dist/bench/iscsi-compare-tgt.js "$@"
