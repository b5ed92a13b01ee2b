#!/bin/sh
# Reference workspace agent: registers, heartbeats, and leaves when the server says it is paused or
# deleted. Written for busybox sh + busybox wget (the image is FROM scratch with busybox only).
#
# Env: WORKSPACE_ID, PLATFORM_URL (required); WORKSPACE_CONFIG_PATH (/configs); HEARTBEAT_INTERVAL_S (30);
#      AGENT_EXIT_IMMEDIATELY=1 exits 1 at once (crash-loop tests).
# Exit codes: 0 paused/deleted/terminated, 1 misconfigured or told to crash, 3 token refused 3 times in a row.

CONFIG_PATH="${WORKSPACE_CONFIG_PATH:-/configs}"
INTERVAL="${HEARTBEAT_INTERVAL_S:-30}"
REQUEST_TIMEOUT_S=15
START_S=$(date +%s)
STATE=""
CHILD=""
UNAUTHORIZED=0
WORK=""

log() { echo "agent[${WORKSPACE_ID:-?}]: $*"; }

# One line per state change, so a healthy agent's log stays short.
set_state() {
  if [ "$STATE" != "$1" ]; then
    STATE="$1"
    shift
    log "state=$STATE${1:+ ($*)}"
  fi
}

cleanup() {
  [ -n "$CHILD" ] && kill "$CHILD" 2>/dev/null
  [ -n "$WORK" ] && rm -rf "$WORK"
}

on_signal() {
  set_state stopping "signal"
  cleanup
  exit 0
}
# Every blocking step runs in the background and is `wait`ed on: a trapped signal interrupts `wait`
# at once, whereas a foreground command would delay the trap until it finished.
trap on_signal TERM INT

finish() {
  code="$1"
  shift
  set_state exiting "$*"
  cleanup
  exit "$code"
}

pause_for() {
  sleep "$1" &
  CHILD=$!
  wait "$CHILD"
  CHILD=""
}

# Re-read on every request: a restart rotates the token in place.
read_token() {
  [ -r "$CONFIG_PATH/.auth_token" ] && tr -d ' \r\n' < "$CONFIG_PATH/.auth_token"
}

# http METHOD PATH [BODY] -> HTTP_CODE (000 when no answer) and HTTP_BODY.
# busybox wget exits 1 on any HTTP error and never prints the error body, so the status comes from
# the response headers that -S writes to stderr ("  HTTP/1.1 401 Unauthorized").
http() {
  token=$(read_token)
  rm -f "$WORK/body" "$WORK/headers"
  if [ "$1" = POST ]; then
    timeout "$REQUEST_TIMEOUT_S" wget -S -q -O "$WORK/body" \
      --header "Authorization: Bearer $token" --header "Content-Type: application/json" \
      --post-data "$3" "$PLATFORM_URL$2" 2>"$WORK/headers" &
  else
    timeout "$REQUEST_TIMEOUT_S" wget -S -q -O "$WORK/body" \
      --header "Authorization: Bearer $token" "$PLATFORM_URL$2" 2>"$WORK/headers" &
  fi
  CHILD=$!
  wait "$CHILD"
  CHILD=""
  HTTP_CODE=$(sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' "$WORK/headers" 2>/dev/null | tail -n 1)
  [ -n "$HTTP_CODE" ] || HTTP_CODE=000
  HTTP_BODY=$(cat "$WORK/body" 2>/dev/null)
  if [ "$HTTP_CODE" = 401 ]; then
    UNAUTHORIZED=$((UNAUTHORIZED + 1))
    [ "$UNAUTHORIZED" -ge 3 ] && finish 3 "token refused 3 times in a row"
  elif [ "$HTTP_CODE" != 000 ]; then
    UNAUTHORIZED=0
  fi
  # Any route answering 404 means the workspace is unknown or REMOVED (checked before the token).
  [ "$HTTP_CODE" = 404 ] && finish 0 "workspace deleted"
  return 0
}

register() {
  backoff=1
  set_state registering
  while :; do
    http POST /registry/register \
      "{\"id\":\"$WORKSPACE_ID\",\"url\":\"http://127.0.0.1:0\",\"agent_card\":{\"name\":\"reference-agent\"}}"
    case "$HTTP_CODE" in
      200) set_state online; return 0 ;;
      409) check_state ;;
    esac
    set_state register-retrying "HTTP $HTTP_CODE"
    pause_for "$backoff"
    [ "$backoff" -lt 5 ] && backoff=$((backoff * 2))
  done
}

heartbeat() {
  uptime=$(( $(date +%s) - START_S ))
  http POST /registry/heartbeat \
    "{\"workspace_id\":\"$WORKSPACE_ID\",\"error_rate\":0,\"sample_error\":\"\",\"active_tasks\":0,\"uptime_seconds\":$uptime,\"current_task\":\"\",\"runtime_state\":\"\"}"
  if [ "$HTTP_CODE" = 200 ]; then
    set_state online
  else
    set_state heartbeat-failing "HTTP $HTTP_CODE"
  fi
}

# Leaves cleanly when the server answers paused or deleted; any other answer keeps the agent running.
check_state() {
  http GET "/workspaces/$WORKSPACE_ID/state"
  [ "$HTTP_CODE" = 200 ] || return 0
  compact=$(printf '%s' "$HTTP_BODY" | tr -d ' \r\n\t')
  case "$compact" in
    *'"deleted":true'* | *'"status":"removed"'*) finish 0 "workspace deleted" ;;
    *'"paused":true'* | *'"status":"paused"'*) finish 0 "workspace paused" ;;
  esac
}

main() {
  if [ "${AGENT_EXIT_IMMEDIATELY:-}" = 1 ]; then
    log "AGENT_EXIT_IMMEDIATELY=1, exiting"
    exit 1
  fi
  if [ -z "${WORKSPACE_ID:-}" ] || [ -z "${PLATFORM_URL:-}" ]; then
    log "WORKSPACE_ID and PLATFORM_URL are required"
    exit 1
  fi
  PLATFORM_URL="${PLATFORM_URL%/}"
  case "$INTERVAL" in '' | *[!0-9]*) INTERVAL=30 ;; esac
  [ "$INTERVAL" -ge 1 ] || INTERVAL=1
  WORK=$(mktemp -d 2>/dev/null) || { log "cannot create a temp dir (is /tmp writable?)"; exit 1; }
  set_state starting "platform=$PLATFORM_URL interval=${INTERVAL}s"
  register
  while :; do
    pause_for "$INTERVAL"
    heartbeat
    check_state
  done
}

main
