#!/usr/bin/env bash
# API benchmark: see bench/README.md. Usage: bash bench/api/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "$root/scripts/lib/env.sh"
cd "$root/apps/gateway"
# tsx from the workspace; workspace packages resolve to their TypeScript sources.
exec node --conditions=@gptmarket/source --import tsx "$root/bench/api/bench.ts" "$@"
