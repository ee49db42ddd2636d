#!/usr/bin/env bash
# End-to-end orchestration benchmark: see bench/README.md. Usage: bash bench/e2e/e2e.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=/dev/null
source "$root/scripts/lib/env.sh"
cd "$root/apps/generation-worker"
# tsx from the workspace; workspace packages resolve to their TypeScript sources.
exec node --conditions=@gptmarket/source --import tsx "$root/bench/e2e/e2e.ts" "$@"
