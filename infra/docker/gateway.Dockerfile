# syntax=docker/dockerfile:1
# The gateway image. Build context: the repository root.
#   docker build -f infra/docker/gateway.Dockerfile -t gptmarket-gateway .
# Stages: prune the workspace to the gateway, the dashboard it serves and their dependencies (turbo prune) → install
# from the pruned lockfile → build (turbo.json builds the dashboard with the gateway) → `pnpm deploy --prod` into
# /prod/app, plus the dashboard's static files in /prod/app/dashboard → a slim runner with only that folder.

# Pinned by exact version tag (the Node 22 release the toolchain uses). To pin by digest as well, append
# the digest that `docker buildx imagetools inspect node:22.23.3-bookworm-slim` prints for this tag.
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
RUN turbo prune @gptmarket/gateway @gptmarket/dashboard --docker

FROM base AS builder
WORKDIR /repo
# Dependencies first (cached while only sources change).
COPY --from=pruner /repo/out/json/ ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm install --frozen-lockfile
COPY --from=pruner /repo/out/full/ ./
COPY tsconfig.base.json ./
RUN turbo run build --filter=@gptmarket/gateway
# A self-contained folder: dist/, production node_modules, and workspace packages (db ships drizzle/).
# Deployed from the lockfile (the versions the tests ran; nothing is re-resolved); workspace packages are copied in
# (injected) for this command only.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm deploy --config.inject-workspace-packages=true --filter=@gptmarket/gateway --prod /prod/app
# The dashboard's built files (index.html, hashed assets) where the gateway looks for them (src/routes/dashboard.ts).
RUN cp -r packages/dashboard/dist /prod/app/dashboard

FROM ${NODE_IMAGE} AS runner
# tini as PID 1: forwards SIGTERM to node and reaps children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data/media && chown node:node /data/media
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LOCAL_STORAGE_DIR=/data/media
WORKDIR /app
COPY --from=builder --chown=node:node /prod/app/ ./
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
