#!/usr/bin/env bash
# A bsonpipe archive streamed into a restic repository as one snapshot, kept only if the dump
# completed. Repository and password come from restic's environment (RESTIC_REPOSITORY,
# RESTIC_PASSWORD_FILE, ...). Usage: bsonpipe-restic-backup.sh NAME [bsonpipe dump flags...]
#   e.g. bsonpipe-restic-backup.sh db1 --uri mongodb://backup@db1/
# Restore: restic dump --path /NAME.archive latest NAME.archive | bsonpipe restore --uri ... --archive
set -euo pipefail
name=$1
shift
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
if bsonpipe dump "$@" --archive --progress none |
  restic backup --quiet --json --stdin --stdin-filename "$name.archive" --tag bsonpipe >"$summary"; then
  exit 0
fi
# restic (before 0.17's --stdin-from-command) keeps whatever it read before the pipe closed: a
# truncated archive. Forget that snapshot so that `latest` stays the last complete dump.
id=$(sed -n 's/.*"snapshot_id":"\([0-9a-f]*\)".*/\1/p' "$summary")
if [ -n "$id" ]; then
  restic forget --quiet "$id" >&2 || true
fi
echo "bsonpipe-restic-backup: dump of $name failed; no snapshot kept" >&2
exit 1
