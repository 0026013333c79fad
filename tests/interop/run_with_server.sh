#!/usr/bin/env bash
# Starts minimongod on an ephemeral loopback port, runs a command with the server's URI appended
# as its last argument, stops the server, and exits with the command's status.
#   run_with_server.sh MINIMONGOD [SERVER FLAGS...] -- COMMAND [ARGS...]
# With --user U --password P among the server flags, the URI carries those credentials and
# authMechanism=SCRAM-SHA-256. $INTEROP_URI_OPTIONS (e.g. "compressors=zlib") is appended to the
# URI's options.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 MINIMONGOD [SERVER FLAGS...] -- COMMAND [ARGS...]" >&2; exit 2; }
minimongod=$1
shift
server_flags=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  server_flags+=("$1")
  shift
done
[ $# -ge 2 ] || { echo "run_with_server.sh: no command after --" >&2; exit 2; }
shift
user="" password=""
for ((i = 0; i + 1 < ${#server_flags[@]}; i++)); do
  case "${server_flags[i]}" in
    --user) user=${server_flags[i + 1]} ;;
    --password) password=${server_flags[i + 1]} ;;
  esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bsonpipe-interop.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

: >"$work/out"  # the background job opens its redirections later: sed must find the file
"$minimongod" --port 0 "${server_flags[@]}" >"$work/out" 2>"$work/err" &
pid=$!

port=""
for ((tries = 0; tries < 300; tries++)); do
  port=$(sed -n 's/^minimongod listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/out")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  if [ -n "${INTEROP_URI_OPTIONS:-}" ]; then
  case "$uri" in
    *\?*) uri="$uri&$INTEROP_URI_OPTIONS" ;;
    *) uri="$uri?$INTEROP_URI_OPTIONS" ;;
  esac
fi
echo "run_with_server.sh: minimongod did not start" >&2
  cat "$work/out" "$work/err" >&2
  exit 1
fi

uri="mongodb://127.0.0.1:$port/"
[ -z "$user" ] || uri="mongodb://$user:$password@127.0.0.1:$port/?authSource=admin&authMechanism=SCRAM-SHA-256"
if [ -n "${INTEROP_URI_OPTIONS:-}" ]; then
  case "$uri" in
    *\?*) uri="$uri&$INTEROP_URI_OPTIONS" ;;
    *) uri="$uri?$INTEROP_URI_OPTIONS" ;;
  esac
fi
echo "run_with_server.sh: minimongod (pid $pid) at ${uri/:$password@/:***@}" >&2

status=0
"$@" "$uri" || status=$?
if [ "$status" -ne 0 ]; then
  echo "run_with_server.sh: command exited with $status; minimongod stderr:" >&2
  cat "$work/err" >&2
fi
exit "$status"
