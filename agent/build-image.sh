#!/usr/bin/env bash
# Builds the reference agent image (default workspace-agent:latest) without touching a registry:
# the image is FROM scratch plus the host's static busybox.
set -euo pipefail

IMAGE="${AGENT_IMAGE:-workspace-agent:latest}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

fail() { echo "build-image: $*" >&2; exit 1; }

find_busybox() {
  local candidate
  for candidate in /bin/busybox /usr/bin/busybox; do
    # The image has no libc, so only a static binary works.
    if [ -x "$candidate" ] && ! ldd "$candidate" >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

command -v docker >/dev/null 2>&1 || fail "docker CLI not found"
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (DOCKER_HOST=${DOCKER_HOST:-unset})"

BUSYBOX="$(find_busybox || true)"
if [ -z "$BUSYBOX" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "build-image: installing busybox-static" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >&2 \
    || fail "apt-get install busybox-static failed"
  BUSYBOX="$(find_busybox || true)"
fi
[ -n "$BUSYBOX" ] || fail "no static busybox found; install Debian's busybox-static"

CONTEXT="$(mktemp -d)"
trap 'rm -rf "$CONTEXT"' EXIT
cp "$BUSYBOX" "$CONTEXT/busybox"
cp "$HERE/agent.sh" "$HERE/Dockerfile" "$CONTEXT/"

docker build -q -t "$IMAGE" "$CONTEXT" >/dev/null || fail "docker build of $IMAGE failed"
echo "build-image: built $IMAGE"
