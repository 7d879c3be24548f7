#!/usr/bin/env bash
# Install, build, and run the whole catalog against the built-in reference
# server (wsref-echo on a free loopback port). Reports go to reports/servers/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/harness/wsconform "$@"
