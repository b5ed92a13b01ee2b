#!/usr/bin/env bash
# Makes a Docker daemon available to the e2e tests, then builds the reference agent image.
#
#   bash .ci/start-docker.sh
#
# Uses a daemon that already answers on $DOCKER_SOCK (default /var/run/docker.sock). Otherwise it
# starts one there with its own data root, exec root and pidfile under a fresh temp folder, so it
# never collides with another daemon's state. The flags match the CI sandbox: no bridge and no
# iptables (no NET_ADMIN there); workspace containers use the host or "none" network.
# When the socket is not the default one, DOCKER_HOST is exported (useful when sourced) and
# appended to $GITHUB_ENV when that exists.
#
# DOCKERD_OVERLAY_WAIT_S (default 20) bounds the first, overlay2 attempt before falling back to vfs.
# No `set -e`: this file may be sourced, and every failure is reported explicitly instead.

DOCKER_SOCK="${DOCKER_SOCK:-/var/run/docker.sock}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_ci_fail() { echo "start-docker: $*" >&2; exit 1; }

_ci_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else _ci_fail "need root for: $*"
  fi
}

# dockerd lives in /usr/sbin, which a non-root PATH may not list.
_ci_dockerd_path() {
  command -v dockerd 2>/dev/null || { [ -x /usr/sbin/dockerd ] && echo /usr/sbin/dockerd; }
}

_ci_install_packages() {
  local wanted=()
  _ci_dockerd_path >/dev/null || wanted+=(docker.io)
  [ -x /bin/busybox ] || wanted+=(busybox-static)
  [ "${#wanted[@]}" -eq 0 ] && return 0
  echo "start-docker: installing ${wanted[*]}" >&2
  _ci_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || _ci_fail "apt-get update failed"
  _ci_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${wanted[@]}" >&2 \
    || _ci_fail "apt-get install ${wanted[*]} failed"
}

_ci_answers() {
  docker -H "unix://$DOCKER_SOCK" info >/dev/null 2>&1
}

# Waits up to $1 seconds for the daemon to answer; fails early when its process has died.
_ci_wait_for_daemon() {
  local deadline=$((SECONDS + $1))
  while [ "$SECONDS" -lt "$deadline" ]; do
    _ci_answers && return 0
    kill -0 "$_CI_DOCKERD_PID" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

_ci_stop_daemon() {
  kill "$_CI_DOCKERD_PID" 2>/dev/null
  local i
  for i in $(seq 1 20); do
    kill -0 "$_CI_DOCKERD_PID" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -9 "$_CI_DOCKERD_PID" 2>/dev/null
}

# Starts dockerd in the background with the given extra flags; sets _CI_DOCKERD_PID.
_ci_start_daemon() {
  local root="$1"
  shift
  mkdir -p "$root/data" "$root/exec"
  # setsid: the daemon outlives this CI step's shell.
  _ci_as_root setsid "$(_ci_dockerd_path)" \
    --bridge=none --iptables=false \
    --data-root "$root/data" --exec-root "$root/exec" --pidfile "$root/dockerd.pid" \
    -H "unix://$DOCKER_SOCK" "$@" >>"$root/dockerd.log" 2>&1 </dev/null &
  _CI_DOCKERD_PID=$!
}

_ci_main() {
  _ci_install_packages
  command -v docker >/dev/null 2>&1 || _ci_fail "docker CLI missing after install"

  local how i
  # A socket that exists may belong to a daemon that is still starting: give it a moment before
  # starting another one over it (dockerd unlinks a stale socket file itself).
  if [ -S "$DOCKER_SOCK" ]; then
    for i in $(seq 1 20); do _ci_answers && break; sleep 0.5; done
  fi
  if _ci_answers; then
    how="already running"
  else
    local root
    root="$(mktemp -d "${TMPDIR:-/tmp}/ci-dockerd.XXXXXX")" || _ci_fail "mktemp failed"
    _ci_start_daemon "$root"
    how="started (overlay2, data root $root, log $root/dockerd.log)"
    # overlay2 needs kernel support that some sandboxes lack: the daemon then dies or hangs.
    if ! _ci_wait_for_daemon "${DOCKERD_OVERLAY_WAIT_S:-20}"; then
      echo "start-docker: overlay2 daemon did not come up; retrying with --storage-driver vfs" >&2
      _ci_stop_daemon
      rm -f "$DOCKER_SOCK" 2>/dev/null
      _ci_start_daemon "$root" --storage-driver vfs
      how="started (vfs, data root $root, log $root/dockerd.log)"
      if ! _ci_wait_for_daemon 60; then
        echo "start-docker: --- dockerd log ---" >&2
        cat "$root/dockerd.log" >&2
        _ci_stop_daemon
        # A daemon that died during start-up can leave its data root bind-mounted.
        _ci_as_root umount "$root/data" 2>/dev/null
        _ci_fail "dockerd did not come up on $DOCKER_SOCK (it exited, or did not answer within 60 s)"
      fi
    fi
  fi

  if [ "$DOCKER_SOCK" != /var/run/docker.sock ]; then
    export DOCKER_HOST="unix://$DOCKER_SOCK"
    [ -n "${GITHUB_ENV:-}" ] && echo "DOCKER_HOST=$DOCKER_HOST" >>"$GITHUB_ENV"
  fi
  DOCKER_HOST="unix://$DOCKER_SOCK" bash "$REPO_ROOT/agent/build-image.sh" || _ci_fail "agent image build failed"
  echo "start-docker: using Docker daemon on unix://$DOCKER_SOCK ($how, server $(docker -H "unix://$DOCKER_SOCK" version -f '{{.Server.Version}}' 2>/dev/null))"
}

_ci_main "$@"
