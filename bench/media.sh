#!/usr/bin/env bash
# Media engine benchmark: see bench/README.md. Usage: bash bench/media.sh [--skip-large]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=/dev/null
source "$root/scripts/lib/env.sh"
cd "$root/apps/media-worker"
# tsx from the workspace; workspace packages resolve to their TypeScript sources.
exec node --conditions=@gptmarket/source --import tsx "$root/bench/media.ts" "$@"
