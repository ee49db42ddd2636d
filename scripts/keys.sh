#!/usr/bin/env bash
# API keys for the local stack, from any directory: ./scripts/keys.sh create --name "web app" [--daily-budget USD] [--monthly-budget USD]
# | budget key_... --daily-budget USD|none --monthly-budget USD|none | list (with budgets and spending) | revoke key_...
# Uses the same database as ./scripts/dev.sh (GPTMARKET_DATA_DIR, or DATABASE_URL when set). With the embedded
# database, stop the stack first: PGlite is single-process.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec pnpm --silent -C "$GPTMARKET_ROOT/apps/gateway" keys "$@"
