# Autolab HTTP API (Fastify). Build from the repository root, with BuildKit (the default of `docker buildx build`
# and `docker compose build`), which reads the ignore file next to this one (api.Dockerfile.dockerignore):
#   docker build -f docker/api.Dockerfile -t autolab-api .
# The API never talks to Docker: it gets no socket (see docker/README.md).

# ---- npm manifests only, so the install layer below is rebuilt only when a dependency changes
FROM node:20-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN if find . -name node_modules -prune | grep -q .; then \
      echo "node_modules is in the build context: build with BuildKit, which reads docker/api.Dockerfile.dockerignore" >&2; \
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
# The dashboard the API serves at / (apps/web/dist).
RUN cd apps/web && npx vite build
# The artifacts volume is mounted here; a fresh named volume takes this directory's owner.
RUN mkdir -p /data && chown node:node /data

# Set after `npm ci`, which would otherwise skip the dev dependencies.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    AUTOLAB_DATA_DIR=/data
USER node
EXPOSE 8080
# A TCP probe, so the check does not depend on a particular route.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('node:net').connect(Number(process.env.PORT||8080),'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"]
CMD ["npx", "tsx", "apps/api/src/main.ts"]
