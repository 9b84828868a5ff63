# syntax=docker/dockerfile:1
# One image for the operator and the consumer pods:
#   clickpipes operator   (the chart's Deployment)
#   clickpipes consume    (the consumer Deployments the operator creates)
# Both set `command` to the ENTRYPOINT below explicitly, so keep them in step
# (test/unit/dockerfile.test.ts checks it, and replays every stage without a container
# engine: the COPY lines' files, the RUN lines for real, then `clickpipes --help`).

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-fund --no-audit
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-fund --no-audit && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY crds ./crds
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/clickpipes && chmod 0755 /app/dist/src/cli/main.js
# The `node` user of the official image (uid 1000); the chart runs with runAsNonRoot and a
# read-only root filesystem, so nothing here needs to be writable.
USER 1000:1000
# No init process: node is PID 1, and both `operator` and `consume` install SIGTERM/SIGINT
# handlers (PID 1 gets no default signal actions), drain, and exit 0. Neither spawns
# children, so there are no zombies to reap.
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
