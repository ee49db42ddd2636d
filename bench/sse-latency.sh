#!/usr/bin/env bash
# HelloWorld POST → `completed` SSE event: pushed vs polled progress vs a direct Temporal client. Prints medians and ratios.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh"
cd "$GPTMARKET_ROOT"
exec node --import tsx --conditions=@gptmarket/source bench/sse-latency.ts "$@"
