# Autolab worker (BullMQ): takes runs from the queue and drives the research engine, whose experiments run in
# sandbox containers on the host's Docker engine. Build from the repository root, with BuildKit (the default of
# `docker buildx build` and `docker compose build`), which reads worker.Dockerfile.dockerignore next to this file:
#   docker build -f docker/worker.Dockerfile -t autolab-worker .
# The image holds no Docker socket and no Docker CLI: the worker talks to the engine through dockerode, over the
# socket that docker/compose.yaml mounts into this service alone (see docker/README.md).

# ---- npm manifests only, so the install layer below is rebuilt only when a dependency changes
FROM node:20-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN if find . -name node_modules -prune | grep -q .; then \
      echo "node_modules is in the build context: build with BuildKit, which reads docker/worker.Dockerfile.dockerignore" >&2; \
      exit 1; \
    fi \
 && find . -type f ! -name package.json ! -name package-lock.json -delete \
 && find . -type d -empty -delete

# ---- runtime
FROM node:20-bookworm-slim
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
# Every workspace's package.json must be present for `npm ci` to match the lockfile.
COPY --from=manifests /src/ ./
# Dev dependencies are installed on purpose: the apps run from TypeScript source through tsx, a dev dependency.
RUN npm ci && npm cache clean --force
# Sources stay owned by root: the process can read its code but not change it.
COPY . .
# The artifacts volume is mounted here; a fresh named volume takes this directory's owner.
RUN mkdir -p /data && chown node:node /data

# Set after `npm ci`, which would otherwise skip the dev dependencies.
ENV NODE_ENV=production \
    AUTOLAB_DATA_DIR=/data
USER node
CMD ["npx", "tsx", "apps/worker/src/main.ts"]
