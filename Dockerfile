# syntax=docker/dockerfile:1
# One image per service, from the repository root:
#   docker build --build-arg SERVICE=youtube-processor -t prismq/youtube-processor .
# SERVICE: taskmanager-server, youtube-discovery, youtube-processor, reddit-discovery, reddit-processor.
# The build stage runs the same three commands as tests/e2e/test/deploy.test.ts (which checks that
# they stay the same); see deploy/README.md.

FROM node:20-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary fits.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
RUN npm install -g pnpm@10.34.9
ENV CI=true TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1
WORKDIR /repo
# Packages from the lockfile alone first, so this layer stays cached while only sources change.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile
RUN pnpm build
ARG SERVICE
RUN test -n "${SERVICE}" || (echo "set --build-arg SERVICE=<service>" >&2 && exit 1)
RUN pnpm --filter "@prismq/${SERVICE}" deploy --prod /out

FROM node:20-slim
ARG SERVICE
# Young-generation semi-spaces of 1 MB: SERVICE_NODE_OPTIONS of @prismq/system, why there.
ENV NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=1
LABEL org.opencontainers.image.title="prismq-${SERVICE}"
WORKDIR /app
COPY --from=build --chown=node:node /out ./
# ./data (DATA_DIR, the server's SQLite default) belongs to the unprivileged user.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
# Variables come from the environment (compose env_file, the orchestrator); none is baked in.
CMD ["node", "dist/index.js"]
