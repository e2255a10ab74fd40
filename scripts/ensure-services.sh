#!/usr/bin/env bash
# Makes sure everything Autolab needs is up: Redis, a Docker engine and the sandbox images.
# Used by `npm test`, `npm run demo` and `npm start`. Idempotent: what already answers is used as is;
# what this script starts is recorded in .data/started (so scripts/stop-services.sh stops exactly that).
#
# Writes .data/services.env with the endpoints and image tags for the processes that follow.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data"
mkdir -p "$DATA"
STARTED="$DATA/started"
touch "$STARTED"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  # Installs Debian packages when missing; only root can, everyone else gets told what to install.
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  is_root || die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  log "installing Debian packages: ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >"$DATA/apt.log" 2>&1; then
    apt-get update -qq >>"$DATA/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$DATA/apt.log" 2>&1 \
      || die "apt-get install ${missing[*]} failed; see $DATA/apt.log"
  fi
}

# ---------------------------------------------------------------- Redis
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
ensure_redis() {
  command -v redis-cli >/dev/null || apt_install redis-tools
  if redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
    log "Redis answers at $REDIS_URL"
  else
    [[ "$REDIS_URL" =~ ^redis://(127\.0\.0\.1|localhost)(:([0-9]+))?/?[0-9]*$ ]] \
      || die "Redis does not answer at $REDIS_URL and it is not local, so it cannot be started here"
    local port="${BASH_REMATCH[3]:-6379}"
    command -v redis-server >/dev/null || apt_install redis-server
    mkdir -p "$DATA/redis"
    log "starting redis-server on 127.0.0.1:$port (data: $DATA/redis, append-only; log: $DATA/redis/redis.log)"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
      --dir "$DATA/redis" --appendonly yes --appendfsync everysec \
      --pidfile "$DATA/redis/redis.pid" --logfile "$DATA/redis/redis.log" \
      --maxmemory-policy noeviction --save "" >/dev/null
    for _ in $(seq 1 50); do redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 || die "redis-server did not start; see $DATA/redis/redis.log"
    echo "redis $(cat "$DATA/redis/redis.pid")" >>"$STARTED"
  fi
  # BullMQ loses jobs if Redis evicts keys.
  local policy
  policy="$(redis-cli -u "$REDIS_URL" config get maxmemory-policy 2>/dev/null | tail -n 1 || true)"
  if [ "$policy" != "noeviction" ]; then
    redis-cli -u "$REDIS_URL" config set maxmemory-policy noeviction >/dev/null 2>&1 \
      && log "set maxmemory-policy noeviction (was ${policy:-unknown})" \
      || log "warning: could not set maxmemory-policy noeviction (is ${policy:-unknown}); BullMQ needs it"
  fi
}

# ---------------------------------------------------------------- Docker
docker_ok() { timeout 20 docker info >/dev/null 2>&1; }
ensure_docker() {
  command -v docker >/dev/null || apt_install docker.io
  if docker_ok; then
    log "Docker engine answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
    return
  fi
  [ -z "${DOCKER_HOST:-}" ] || die "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST"
  command -v dockerd >/dev/null || apt_install docker.io
  is_root || die "no Docker engine is running and only root can start dockerd"
  mkdir -p "$DATA/docker"
  # gVisor as a second wall for sandboxes (AUTOLAB_SANDBOX_RUNTIME=runsc): registered when Debian's package installs.
  # runsc needs --network=none here (sandboxes have no network anyway).
  local config="$DATA/docker/daemon.json"
  if command -v runsc >/dev/null || (apt_install runsc) 2>>"$DATA/docker/runsc-install.log"; then
    printf '{"runtimes": {"runsc": {"path": "%s", "runtimeArgs": ["--network=none"]}}}\n' "$(command -v runsc)" >"$config"
  else
    log "gVisor (runsc) could not be installed (see $DATA/docker/runsc-install.log); sandboxes can only use runc"
    echo '{}' >"$config"
  fi
  log "starting dockerd (images and containers: /var/lib/docker; config: $config; log: $DATA/docker/dockerd.log)"
  nohup dockerd --config-file "$config" >"$DATA/docker/dockerd.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 120); do docker_ok && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  docker_ok || die "dockerd did not come up; see $DATA/docker/dockerd.log"
  echo "dockerd $pid" >>"$STARTED"
}

# ---------------------------------------------------------------- images
context_hash() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12; }

ensure_base_image() {
  docker image inspect debian:bookworm-slim >/dev/null 2>&1 && return
  if timeout 30 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then log "pulled debian:bookworm-slim"; return; fi
  # No registry reachable: build the same base from Debian's archive.
  command -v debootstrap >/dev/null || apt_install debootstrap
  local dir="$DATA/bootstrap-rootfs"
  rm -rf "$dir"
  log "bootstrapping debian:bookworm-slim with debootstrap (about a minute; log: $DATA/debootstrap.log)"
  debootstrap --variant=minbase bookworm "$dir" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$DATA/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $DATA/debootstrap.log"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import - debian:bookworm-slim >/dev/null
  rm -rf "$dir"
}

ensure_image() { # name -> echoes the tag
  local name="$1" ctx="$ROOT/sandbox-images/$1" tag
  tag="autolab-$name:$(context_hash "$ctx")"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "image $tag is up to date"
  else
    ensure_base_image
    log "building image $tag (log: $DATA/build-$name.log)"
    DOCKER_BUILDKIT=0 docker build -t "$tag" "$ctx" >"$DATA/build-$name.log" 2>&1 \
      || die "building $tag failed; see $DATA/build-$name.log"
  fi
  docker tag "$tag" "autolab-$name:latest"
  echo "$tag"
}

# Tools the test suite uses besides the services (pdftotext reads the generated papers; Chromium drives the dashboard;
# a Compose CLI validates docker/compose.yaml).
if [ "${1:-}" = "--test-tools" ]; then
  command -v pdftotext >/dev/null || apt_install poppler-utils
  command -v chromium >/dev/null || apt_install chromium
  command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || apt_install docker-compose
fi

ensure_redis
ensure_docker
PYTHON_IMAGE="$(ensure_image python)"
LATEX_IMAGE="$(ensure_image latex)"

cat >"$DATA/services.env" <<EOF
REDIS_URL=$REDIS_URL
AUTOLAB_PYTHON_IMAGE=$PYTHON_IMAGE
AUTOLAB_LATEX_IMAGE=$LATEX_IMAGE
EOF
[ -n "${DOCKER_HOST:-}" ] && echo "DOCKER_HOST=$DOCKER_HOST" >>"$DATA/services.env"
# Whether the engine can run sandboxes under gVisor (AUTOLAB_SANDBOX_RUNTIME=runsc); the tests read the engine too.
if docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; then
  echo "AUTOLAB_RUNSC_AVAILABLE=1" >>"$DATA/services.env"
  log "gVisor (runsc) is registered with the Docker engine"
else
  echo "AUTOLAB_RUNSC_AVAILABLE=0" >>"$DATA/services.env"
fi
log "ready: Redis $REDIS_URL, images $PYTHON_IMAGE $LATEX_IMAGE"
