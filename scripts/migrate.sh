#!/usr/bin/env bash
# Migrates a guest through the REST API, waits for the end and prints the migration as JSON.
#   migrate.sh GUEST [TARGET_HOST]   (no target: the guest goes to the other host, or the scheduler picks)
# FERRY_API overrides the API address (default http://127.0.0.1:5080); FERRY_API_KEY_FILE the file holding
# the API key (default .ferry/api-key, which make run creates).
set -euo pipefail
guest=${1:?usage: migrate.sh GUEST [TARGET_HOST]}
target=${2:-}
api=${FERRY_API:-http://127.0.0.1:5080}
key_file=${FERRY_API_KEY_FILE:-$(cd "$(dirname "$0")/.." && pwd)/.ferry/api-key}
[[ -r $key_file ]] || { echo "migrate.sh: no API key in $key_file (make run creates it; FERRY_API_KEY_FILE names another)" >&2; exit 1; }
# The key reaches curl as a header read from a pipe, never on a command line (ps would show it).
curl() { command curl -H @<(printf 'X-Api-Key: %s\n' "$(<"$key_file")") "$@"; }

if [[ -z "$target" ]]; then
  current=$(curl -fsS "$api/api/v1/guests/$guest" | sed -n 's/.*"host":"\([^"]*\)".*/\1/p')
  case "$current" in
    host-a) target=host-b ;;
    host-b) target=host-a ;;
  esac
fi
body="{\"guest\":\"$guest\"${target:+,\"targetHost\":\"$target\"}}"
location=$(curl -fsS -D - -o /dev/null -XPOST "$api/api/v1/migrations" -H 'content-type: application/json' \
  -H "Idempotency-Key: migrate-$guest-$(date +%s%N)" -d "$body" | sed -n 's/^[Ll]ocation: *\([^[:space:]]*\).*/\1/p')
[[ -n "$location" ]] || { echo "migrate.sh: the API did not accept the migration" >&2; exit 1; }
echo "migration: $api$location" >&2
while :; do
  m=$(curl -fsS "$api$location")
  # The migration's own state is the first "state" in its JSON (the timeline's entries come after it).
  state=$(grep -o '"state":"[a-zA-Z]*"' <<<"$m" | head -n 1 | cut -d'"' -f4)
  case "$state" in
    completed|failed|cancelled) echo "$m"; [[ $state == completed ]]; exit ;;
  esac
  sleep 0.2
done
