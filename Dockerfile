# syntax=docker/dockerfile:1
#
# Capstan images. One runtime image runs every component; only the command differs:
#   API          node dist/apps/api/src/main.js                (default, PORT 8080)
#   worker       node dist/apps/worker/src/main.js             (WORKER_PORT 8081)
#   SLA monitor  node dist/apps/sla-monitor/src/main.js        (SLA_MONITOR_PORT 8082)
#   simulator    node dist/apps/simulator/src/main.js          (emulated cloud: SIMULATOR_PORT 8090,
#                                                               SIMULATOR_GKE_PORT 8091, SIMULATOR_KUBE_PORT 8443)
#
#   docker build --target runtime -t capstan:0.1.0 .
#   docker build --target migrate -t capstan:0.1.0-migrate .
#
# The migrate image is separate because `prisma migrate deploy` needs the `prisma` CLI, a
# devDependency, which the runtime image deliberately leaves out.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
# CHECKPOINT_DISABLE turns off the Prisma CLI's update check, a call to the internet on every run.
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    CHECKPOINT_DISABLE=1

# ---------------------------------------------------------------- all dependencies (build, migrate)
FROM base AS deps
COPY package.json package-lock.json ./
# --ignore-scripts: no install script in the tree is needed here, and some reach the internet.
# Prisma's would download engine binaries (Capstan uses the JS engine with the pg driver adapter,
# so none is used) and run `prisma generate`, which the build stage does itself; the rest belong
# to dev tooling (nx, the embedded PostgreSQL of the tests).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts

# ---------------------------------------------------------------- compile
FROM deps AS build
COPY . .
# prisma generate (client into libs/platform/src/database/generated), tsc, tsc-alias -> dist/
RUN npm run build

# ---------------------------------------------------------------- migrations (run once per release)
FROM base AS migrate
# The full node_modules: the prisma CLI and @prisma/config are devDependencies.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
# prisma.config.ts imports this file to turn DATABASE_URL into connection fields.
COPY libs/platform/src/database/pg-connection.ts ./libs/platform/src/database/pg-connection.ts
COPY --from=build /app/dist ./dist
# npm (behind npx) keeps its cache and logs under NPM_CONFIG_CACHE: /tmp stays writable when the
# root filesystem is read-only (the Helm chart mounts an emptyDir there).
ENV NODE_ENV=production \
    NPM_CONFIG_CACHE=/tmp/.npm
# Numeric uid/gid of the image's `node` user, so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
CMD ["npx", "prisma", "migrate", "deploy"]

# ---------------------------------------------------------------- runtime (API, worker, SLA monitor)
FROM base AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0
COPY package.json package-lock.json ./
# Production dependencies only.
# --omit=optional: @prisma/client names `prisma` and `typescript` as optional peers, so the lock
#   file marks them devOptional and --omit=dev alone would still install the Prisma CLI,
#   TypeScript and their tree (about 120 MB). The only genuinely optional production packages are
#   msgpackr-extract (a native speed-up that msgpackr, under BullMQ, does without) and
#   pg-cloudflare (Cloudflare Workers only).
# --ignore-scripts: @prisma/client's postinstall would try `prisma generate`; the client is
#   already compiled into dist/.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts
# Owned by root and read-only for the app user: the process cannot modify its own code.
COPY --from=build /app/dist ./dist
# Where the simulator writes the management cluster's kubeconfig. Made here, owned by the app user,
# because a new Docker named volume takes the ownership of the image directory it is mounted on:
# otherwise the volume's root would belong to root and the simulator could not write to it.
RUN mkdir -p /var/lib/capstan/simulator && chown 1000:1000 /var/lib/capstan/simulator
USER 1000:1000
EXPOSE 8080 8081 8082 8090 8091 8443
# node runs as PID 1 without an init: the apps install their own SIGTERM handlers (Nest shutdown
# hooks), so `docker stop` and pod termination shut them down gracefully.
CMD ["node", "dist/apps/api/src/main.js"]
