#!/usr/bin/env bash
# A two-node Docker Swarm of private daemons on loopback, for the Swarm end-to-end tests.
#
#   bash .ci/start-swarm.sh up            start it (or keep the one that is up and healthy)
#   bash .ci/start-swarm.sh down          stop both nodes and remove everything under $SWARM_ROOT
#   bash .ci/start-swarm.sh kill-worker   the worker host "loses power": its dockerd, containerd and
#                                         containers are killed at once (node-loss tests)
#   bash .ci/start-swarm.sh start-worker  boots the worker again on its data root; it rejoins by itself
#   bash .ci/start-swarm.sh status        exit 0 when the swarm is up and healthy
#
# Manager: advertises 127.0.0.1, listens on 127.0.0.1:$SWARM_PORT. Worker: 127.0.0.2, same port.
# The manager's Engine API is also on tcp://$SWARM_MANAGER_ADDR:$SWARM_TLS_PORT (default 12376) with
# TLS, client certificates required (--tlsverify): the certificates are made with openssl at `up` in
# $SWARM_ROOT/certs, laid out as DOCKER_CERT_PATH wants them (ca.pem, cert.pem, key.pem for the
# client; server-*.pem for the daemon), plus untrusted-ca.pem, a CA that signed nothing here (tests of
# a wrong CA).
# (SWARM_MANAGER_ADDR / SWARM_WORKER_ADDR move them to other loopback addresses, with another
# SWARM_ROOT, so that a second swarm can run beside the first: a developer's beside CI's.)
# Each node is a private dockerd (own socket, data root, exec root, pidfile; --bridge=none
# --iptables=false, like .ci/start-docker.sh) that runs as the only thing in its own PID and mount
# namespace, under docker-init (tini) as PID 1. Killing that namespace takes down every process of
# the node at once, as a host failure would, and its mounts go with it: nothing leaks into the host's
# mount table, and no process is ever looked for by name.
#
# The agent image ($AGENT_IMAGE) is copied from the shared daemon ($SOURCE_DOCKER_HOST, default
# $DOCKER_HOST or the local socket) into both nodes with `docker save | docker load`, after building it
# there with agent/build-image.sh when it is missing. Images are per node in a swarm.
#
# State for the tests: $SWARM_ROOT/state.env (SWARM_MANAGER_HOST, SWARM_WORKER_HOST,
# SWARM_MANAGER_NODE, SWARM_WORKER_NODE, SWARM_MANAGER_TCP, SWARM_CERT_PATH). `up` is idempotent and serialized by a lock; a leftover of a
# crashed run (its processes are found through the pid files under $SWARM_ROOT) is torn down first.

set -uo pipefail

SWARM_ROOT="${SWARM_ROOT:-/tmp/molecule-swarm}"
SWARM_PORT="${SWARM_PORT:-12377}"
SWARM_TLS_PORT="${SWARM_TLS_PORT:-12376}"
SWARM_MANAGER_ADDR="${SWARM_MANAGER_ADDR:-127.0.0.1}"
SWARM_WORKER_ADDR="${SWARM_WORKER_ADDR:-127.0.0.2}"
case "$SWARM_MANAGER_ADDR $SWARM_WORKER_ADDR" in
  127.*\ 127.*) ;;
  *) echo "start-swarm: SWARM_MANAGER_ADDR and SWARM_WORKER_ADDR must be loopback addresses (127.x)" >&2; exit 1 ;;
esac
AGENT_IMAGE="${AGENT_IMAGE:-workspace-agent:latest}"
SOURCE_DOCKER_HOST="${SOURCE_DOCKER_HOST:-${DOCKER_HOST:-unix:///var/run/docker.sock}}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$SWARM_ROOT/state.env"
CERTS="$SWARM_ROOT/certs"

CLEAN_ON_FAIL=0
fail() {
  echo "start-swarm: $*" >&2
  # A half-started swarm is worse than none: the next `up` would have to find it.
  if [ "$CLEAN_ON_FAIL" = 1 ]; then CLEAN_ON_FAIL=0; teardown; fi
  exit 1
}
say() { echo "start-swarm: $*" >&2; }
now_ms() { date +%s%3N; }

[ "$(id -u)" = 0 ] || fail "needs root (private dockerd)"
DOCKERD="$(command -v dockerd 2>/dev/null || { [ -x /usr/sbin/dockerd ] && echo /usr/sbin/dockerd; })"
INIT="$(command -v docker-init 2>/dev/null || command -v tini 2>/dev/null || true)"

host_of() { echo "unix://$SWARM_ROOT/$1/docker.sock"; }
dk() { local node="$1"; shift; docker -H "$(host_of "$node")" "$@"; }
answers() { dk "$1" version >/dev/null 2>&1; }
# The manager's TLS endpoint, as a client holding the certificates of $CERTS reaches it.
answers_tls() {
  docker -H "tcp://$SWARM_MANAGER_ADDR:$SWARM_TLS_PORT" --tlsverify --tlscacert "$CERTS/ca.pem" \
    --tlscert "$CERTS/cert.pem" --tlskey "$CERTS/key.pem" version >/dev/null 2>&1
}

# The node's namespace holder (the `unshare` process), when it is alive and really ours: a pid file
# may outlive its process, and the number may since belong to something else.
node_pid() {
  local pid
  pid="$(cat "$SWARM_ROOT/$1/node.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--data-root $SWARM_ROOT/$1/data" || return 1
  echo "$pid"
}

kill_node() {
  local pid i
  pid="$(node_pid "$1")" || return 0
  kill -KILL "$pid" 2>/dev/null
  for i in $(seq 1 100); do
    [ -e "/proc/$pid" ] || return 0
    sleep 0.1
  done
  fail "node $1 (pid $pid) did not exit"
}

# The manager's Engine API on TCP with TLS (client certificates required), beside its unix socket.
node_flags() {
  NODE_FLAGS=()
  [ "$1" = manager ] || return 0
  NODE_FLAGS=(-H "tcp://$SWARM_MANAGER_ADDR:$SWARM_TLS_PORT" --tlsverify
    --tlscacert "$CERTS/ca.pem" --tlscert "$CERTS/server-cert.pem" --tlskey "$CERTS/server-key.pem")
}

# Boots one node: unshare keeps the namespace; --kill-child hands its own death on to the namespace.
boot_node() {
  local node="$1" dir="$SWARM_ROOT/$1"
  shift
  node_flags "$node"
  mkdir -p "$dir/data" "$dir/exec"
  # (9>&-: the lock's descriptor must not live on in the daemon.)
  # dockerd refuses a pid file whose number is alive; inside a fresh namespace that number is reused.
  # The same holds for the containerd it supervises: a stale containerd.pid whose number is, in the new
  # namespace, one of dockerd's own threads makes it wait for "the running containerd" and give up
  # (seen after kill-worker: "containerd is still running pid=8", then "timeout waiting for containerd").
  rm -f "$dir/dockerd.pid" "$dir/exec/containerd/containerd.pid"
  setsid sh -c 'echo $$ >"$0"; exec "$@"' "$dir/node.pid" \
    unshare --pid --mount --fork --kill-child --mount-proc ${INIT:+"$INIT" --} \
    "$DOCKERD" --bridge=none --iptables=false \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "$(host_of "$node")" "${NODE_FLAGS[@]}" "$@" >>"$dir/dockerd.log" 2>&1 </dev/null 9>&- &
  disown # its death (kill-worker) is expected: no job report from this shell
  local deadline=$((SECONDS + ${BOOT_WAIT_S:-30}))
  while [ "$SECONDS" -lt "$deadline" ]; do
    answers "$node" && return 0
    sleep 0.1
    [ -e "$dir/node.pid" ] && ! node_pid "$node" >/dev/null && return 1
  done
  return 1
}

# overlay2 first; vfs where the kernel refuses overlay (as in .ci/start-docker.sh).
start_node() {
  local node="$1"
  boot_node "$node" && return 0
  say "$node: overlay2 daemon did not come up; retrying with --storage-driver vfs"
  kill_node "$node"
  boot_node "$node" --storage-driver vfs && return 0
  tail -n 30 "$SWARM_ROOT/$node/dockerd.log" >&2
  fail "$node: dockerd did not come up (log $SWARM_ROOT/$node/dockerd.log)"
}

teardown() {
  kill_node worker
  kill_node manager
  # The namespaces took their mounts with them; this only matters if someone ran a node without one.
  local m
  for m in $(awk -v root="$SWARM_ROOT/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null
  done
  rm -rf "$SWARM_ROOT"
}

nodes_ready() {
  [ "$(dk manager node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$')" = 2 ]
}

wait_nodes_ready() {
  local deadline=$((SECONDS + $1))
  while [ "$SECONDS" -lt "$deadline" ]; do
    nodes_ready && return 0
    sleep 0.1
  done
  return 1
}

healthy() {
  [ -f "$STATE" ] && grep -q '^SWARM_CERT_PATH=' "$STATE" && answers manager && answers_tls && answers worker && nodes_ready \
    && [ "$(dk manager info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ] \
    && dk manager image inspect "$AGENT_IMAGE" >/dev/null 2>&1 \
    && dk worker image inspect "$AGENT_IMAGE" >/dev/null 2>&1
}

ensure_openssl() {
  command -v openssl >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || fail "openssl not found (and no apt-get to install it)"
  say "installing openssl"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssl >&2 \
    || { DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssl >&2; } \
    || fail "apt-get install openssl failed"
}

# A CA, the manager's server certificate (for its address) and one client certificate, EC P-256.
make_certs() {
  ensure_openssl
  mkdir -p "$CERTS"
  (
    set -e
    cd "$CERTS"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }
    key ca-key.pem
    openssl req -x509 -new -key ca-key.pem -sha256 -days 30 -subj "/CN=molecule test swarm CA" -out ca.pem
    key server-key.pem
    openssl req -new -key server-key.pem -subj "/CN=$SWARM_MANAGER_ADDR" -out server.csr
    printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$SWARM_MANAGER_ADDR" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -sha256 -days 30 -extfile server.ext -out server-cert.pem 2>/dev/null
    key key.pem
    openssl req -new -key key.pem -subj "/CN=molecule test client" -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -sha256 -days 30 -extfile client.ext -out cert.pem 2>/dev/null
    key untrusted-ca-key.pem
    openssl req -x509 -new -key untrusted-ca-key.pem -sha256 -days 30 -subj "/CN=untrusted CA" -out untrusted-ca.pem
    rm -f ./*.csr ./*.ext ./*.srl
  ) || fail "could not make the TLS certificates in $CERTS"
}

load_image() {
  if ! docker -H "$SOURCE_DOCKER_HOST" image inspect "$AGENT_IMAGE" >/dev/null 2>&1; then
    DOCKER_HOST="$SOURCE_DOCKER_HOST" AGENT_IMAGE="$AGENT_IMAGE" bash "$REPO_ROOT/agent/build-image.sh" >&2 \
      || fail "could not build $AGENT_IMAGE"
  fi
  docker -H "$SOURCE_DOCKER_HOST" save "$AGENT_IMAGE" -o "$SWARM_ROOT/image.tar" || fail "docker save $AGENT_IMAGE failed"
  dk manager load -q -i "$SWARM_ROOT/image.tar" >/dev/null &
  local m=$!
  dk worker load -q -i "$SWARM_ROOT/image.tar" >/dev/null || fail "image load into the worker failed"
  wait "$m" || fail "image load into the manager failed"
  rm -f "$SWARM_ROOT/image.tar"
}

up() {
  if healthy; then
    say "already up ($STATE)"
    return 0
  fi
  [ -n "$DOCKERD" ] || fail "dockerd not found (bash .ci/start-docker.sh installs docker.io)"
  command -v unshare >/dev/null || fail "unshare (util-linux) not found"
  local t0 t1 t2 t3 t4
  t0=$(now_ms)
  teardown
  CLEAN_ON_FAIL=1
  mkdir -p "$SWARM_ROOT"
  make_certs
  start_node manager
  dk manager swarm init --advertise-addr "$SWARM_MANAGER_ADDR" --listen-addr "$SWARM_MANAGER_ADDR:$SWARM_PORT" >/dev/null \
    || fail "swarm init failed (is $SWARM_MANAGER_ADDR:$SWARM_PORT or $SWARM_MANAGER_ADDR:7946 taken? $(ss -ltnH "( sport = :$SWARM_PORT or sport = :7946 )" 2>/dev/null | tr '\n' ' '))"
  t1=$(now_ms)
  start_node worker
  dk worker swarm join --token "$(dk manager swarm join-token -q worker)" \
    --advertise-addr "$SWARM_WORKER_ADDR" --listen-addr "$SWARM_WORKER_ADDR:$SWARM_PORT" "$SWARM_MANAGER_ADDR:$SWARM_PORT" >/dev/null \
    || fail "the worker could not join"
  wait_nodes_ready 30 || fail "the nodes did not both become Ready"
  t2=$(now_ms)
  load_image
  t3=$(now_ms)
  {
    echo "SWARM_MANAGER_HOST=$(host_of manager)"
    echo "SWARM_WORKER_HOST=$(host_of worker)"
    echo "SWARM_MANAGER_NODE=$(dk manager info --format '{{.Swarm.NodeID}}')"
    echo "SWARM_WORKER_NODE=$(dk worker info --format '{{.Swarm.NodeID}}')"
    echo "SWARM_MANAGER_TCP=tcp://$SWARM_MANAGER_ADDR:$SWARM_TLS_PORT"
    echo "SWARM_CERT_PATH=$CERTS"
  } >"$STATE.tmp" && mv "$STATE.tmp" "$STATE"
  CLEAN_ON_FAIL=0
  t4=$(now_ms)
  say "up in $((t4 - t0)) ms (manager + init $((t1 - t0)) ms, worker + join + Ready $((t2 - t1)) ms, image $((t3 - t2)) ms); state $STATE"
}

start_worker() {
  [ -f "$STATE" ] || fail "no swarm is up ($STATE missing)"
  node_pid worker >/dev/null && { say "worker already running"; return 0; }
  local t0
  t0=$(now_ms)
  start_node worker
  wait_nodes_ready 60 || fail "the worker did not become Ready again"
  say "worker back and Ready in $(($(now_ms) - t0)) ms"
}

main() {
  local cmd="${1:-up}"
  mkdir -p "$(dirname "$SWARM_ROOT")"
  # One caller at a time (two test runs, or a test racing the CI script).
  exec 9>"$SWARM_ROOT.lock"
  flock -w 300 9 || fail "could not take $SWARM_ROOT.lock"
  case "$cmd" in
    up) up ;;
    down) teardown; say "down" ;;
    kill-worker) kill_node worker; say "worker killed" ;;
    start-worker) start_worker ;;
    status) healthy ;;
    *) fail "unknown command $cmd (up, down, kill-worker, start-worker, status)" ;;
  esac
}

main "$@"
