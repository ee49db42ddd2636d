#!/usr/bin/env bash
# Database statements benchmark: see bench/README.md. Usage: bash bench/db/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "$root/scripts/lib/env.sh"
cd "$root/packages/db"
# tsx from the workspace; workspace packages resolve to their TypeScript sources.
exec node --conditions=@gptmarket/source --import tsx "$root/bench/db/statements.ts" "$@"
