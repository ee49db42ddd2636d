# syntax=docker/dockerfile:1
# The generation worker image (workflows + AI activities). Build context: the repository root.
#   docker build -f infra/docker/generation-worker.Dockerfile -t gptmarket-generation-worker .
# Stages: turbo prune → install from the pruned lockfile → build → prebuild the workflow bundle →
# `pnpm deploy --prod` into /prod/app → a slim runner.

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
RUN turbo prune @gptmarket/generation-worker --docker

FROM base AS builder
WORKDIR /repo
COPY --from=pruner /repo/out/json/ ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm install --frozen-lockfile
COPY --from=pruner /repo/out/full/ ./
COPY tsconfig.base.json ./
COPY infra/scripts/bundle-workflows.mjs ./infra/scripts/bundle-workflows.mjs
RUN turbo run build --filter=@gptmarket/generation-worker
# The workflow bundles are made once here, so the worker starts without webpack (WORKFLOW_BUNDLE_PATH; its
# .traced.js sibling, with the OpenTelemetry interceptors, runs when OTEL_EXPORTER_OTLP_ENDPOINT is set).
RUN node infra/scripts/bundle-workflows.mjs --out /repo/apps/generation-worker/dist/workflow-bundle.js \
 && test -f /repo/apps/generation-worker/dist/workflow-bundle.traced.js
# Deployed from the lockfile (the versions the tests ran; nothing is re-resolved); workspace packages are copied in
# (injected) for this command only.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm deploy --config.inject-workspace-packages=true --filter=@gptmarket/generation-worker --prod /prod/app

FROM ${NODE_IMAGE} AS runner
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data/media && chown node:node /data/media
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    HEALTH_HOST=127.0.0.1 \
    HEALTH_PORT=8081 \
    LOCAL_STORAGE_DIR=/data/media
WORKDIR /app
COPY --from=builder --chown=node:node /prod/app/ ./
COPY --from=builder --chown=node:node /repo/apps/generation-worker/dist/workflow-bundle.js /repo/apps/generation-worker/dist/workflow-bundle.traced.js ./dist/
USER node
# The health endpoint answers 200 only while the Temporal worker is RUNNING and its pollers poll.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.HEALTH_PORT+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
