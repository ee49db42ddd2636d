#!/usr/bin/env bash
# Known vs unknown API key timing through the real gateway app. Prints medians and ratios.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh"
cd "$GPTMARKET_ROOT"
exec node --import tsx --conditions=@gptmarket/source bench/auth-timing.ts "$@"
