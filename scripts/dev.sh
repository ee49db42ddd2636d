#!/usr/bin/env bash
# Command one: the whole stack on embedded defaults — Temporal dev server with its UI, the gateway on
# PGlite with local storage, both workers. No accounts, no keys. Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$GPTMARKET_ROOT"
exec node --import tsx --conditions=@gptmarket/source scripts/dev.ts "$@"
