# syntax=docker/dockerfile:1
# The media worker image (FFmpeg activities). Build context: the repository root.
#   docker build -f infra/docker/media-worker.Dockerfile -t gptmarket-media-worker .
# Stages: turbo prune → install from the pruned lockfile → build → `pnpm deploy --prod` into /prod/app →
# a runner with FFmpeg and the caption fonts.

# Pinned by exact version tag; see gateway.Dockerfile for pinning by digest.
ARG NODE_IMAGE=node:22.23.3-bookworm-slim

FROM ${NODE_IMAGE} AS base
ENV PNPM_HOME=/pnpm \
    TURBO_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1
ENV PATH=/pnpm:$PATH
RUN npm install -g pnpm@10.34.9 turbo@2.11.11 && npm cache clean --force

FROM base AS pruner
WORKDIR /repo
COPY . .
RUN turbo prune @gptmarket/media-worker --docker

FROM base AS builder
WORKDIR /repo
COPY --from=pruner /repo/out/json/ ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm install --frozen-lockfile
COPY --from=pruner /repo/out/full/ ./
COPY tsconfig.base.json ./
RUN turbo run build --filter=@gptmarket/media-worker
# Deployed from the lockfile (the versions the tests ran; nothing is re-resolved); workspace packages are copied in
# (injected) for this command only.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm deploy --config.inject-workspace-packages=true --filter=@gptmarket/media-worker --prod /prod/app

FROM ${NODE_IMAGE} AS runner
# FFmpeg (Debian 12's 5.1 with libx264, drawtext, libass) and the font files the caption options name
# (apps/media-worker/src/ffmpeg/fonts.ts): DejaVu, Liberation, FreeFont, Roboto.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      tini ffmpeg fontconfig \
      fonts-dejavu-core fonts-liberation fonts-freefont-ttf fonts-roboto-unhinted \
 && rm -rf /var/lib/apt/lists/* \
 && fc-cache -f \
 && mkdir -p /data/media /data/tmp && chown node:node /data/media /data/tmp
ENV NODE_ENV=production \
    HEALTH_HOST=127.0.0.1 \
    HEALTH_PORT=8082 \
    FONT_DIR=/usr/share/fonts/truetype \
    MEDIA_TEMP_DIR=/data/tmp \
    LOCAL_STORAGE_DIR=/data/media
WORKDIR /app
COPY --from=builder --chown=node:node /prod/app/ ./
USER node
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.HEALTH_PORT+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
