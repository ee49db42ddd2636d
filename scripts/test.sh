#!/usr/bin/env bash
# Command two: every test, against real servers (Temporal dev server, PostgreSQL, FFmpeg, an S3 server).
# Prints "N passed, N failed" at the end.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" || exit 1
set +e  # setup.sh runs with -e; from here on a failing package must not stop the summary
cd "$GPTMARKET_ROOT"
rm -rf apps/*/reports packages/*/reports examples/*/reports infra/reports
log="$(mktemp)"
# Lint (the import boundaries) and type-checking (tests are not type-checked by vitest) run with the tests.
turbo run lint typecheck test --concurrency=2 --continue --output-logs=full "$@" 2>&1 | tee "$log"
turbo_status=${PIPESTATUS[0]}
# Packages whose test command exited non-zero (e.g. unhandled errors after passing tests) count as failed, and so
# does each failed check task.
FAILED_PACKAGES="$(grep -oE '@gptmarket/[a-z0-9-]+#test: +ERROR' "$log" | sed -E 's/#test.*//' | sort -u | tr '\n' ' ')" \
FAILED_CHECKS="$(grep -oE '(@gptmarket/[a-z0-9-]+|//)#(lint|typecheck): +ERROR' "$log" | sed -E 's/: +ERROR//' | sort -u | tr '\n' ' ')" \
  node scripts/test-summary.mjs
summary_status=$?
rm -f "$log"
if [[ $turbo_status -ne 0 || $summary_status -ne 0 ]]; then exit 1; fi
