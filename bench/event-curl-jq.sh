#!/usr/bin/env bash
# The shell baseline for bench/event.sh: the path of Runlayer's capture-deployment-completion.sh from
# the DSN lookup to Sentry's answer, with the same tools (curl, jq, uuidgen, openssl), written the way a
# careful shell version would be so the comparison is fair: the DSN by list + get (GET /vault/v1/kv, the
# object whose name matches, GET /vault/v1/kv/<id>, its value's sentry_dsn), the transaction built by jq
# (the script's fields), the item length in bytes (${#payload} under LC_ALL=C), one POST.
#
#   event-curl-jq.sh TYPE CUSTOMER VERSION STATUS [ERROR]   (WORKOS_API_KEY, WORKOS_API_BASE, SSL_CERT_FILE)
#
# Prints the event id on success; otherwise one warning on stderr, exit 0 (telemetry is optional).
# The API key reaches curl through a config on stdin, never argv. Like the script, it reads the list's
# first page only.
set -u
export LC_ALL=C
kind=$1 customer=$2 version=$3 status=$4 error=${5:-}
warn() { printf 'event-curl-jq: warning: %s\n' "$1" >&2; exit 0; }
api_base=${WORKOS_API_BASE:-https://api.workos.com}
name=${WORKOS_VAULT_SECRET_NAME:-runlayer-sentry-credentials}
key=${WORKOS_API_KEY:-}
[ -n "$key" ] || warn "no WorkOS API key"
case $key in *[!A-Za-z0-9_.-]*) warn "the API key has characters a WorkOS key never has" ;; esac
cacert=()
[ -n "${SSL_CERT_FILE:-}" ] && cacert=(--cacert "$SSL_CERT_FILE")
curl_args=(--silent --show-error --fail --config - --connect-timeout 5 --max-time 25 "${cacert[@]}")
auth="header = \"Authorization: Bearer $key\""

list=$(curl "${curl_args[@]}" "${api_base%/}/vault/v1/kv" <<<"$auth") || warn "listing the vault failed"
id=$(jq -r --arg n "$name" 'first(.data[]? | select(.name == $n) | .id) // empty' <<<"$list")
[ -n "$id" ] || warn "secret $name not on the list's first page"
object=$(curl "${curl_args[@]}" "${api_base%/}/vault/v1/kv/$id" <<<"$auth") || warn "reading the secret failed"
dsn=$(jq -r '(.value | fromjson? | .sentry_dsn) // empty' <<<"$object")
[ -n "$dsn" ] || warn "the secret holds no sentry_dsn"

# scheme://key[:secret]@host[:port][/prefix]/project
re='^(https?)://([A-Za-z0-9]+)(:[^@/]*)?@([^/@]+)(/.*)?/([0-9]+)$'
[[ $dsn =~ $re ]] || warn "the DSN is not usable"
scheme=${BASH_REMATCH[1]} pub=${BASH_REMATCH[2]} host=${BASH_REMATCH[4]} prefix=${BASH_REMATCH[5]} project=${BASH_REMATCH[6]}

event_id=$(uuidgen | tr -d '-')
trace_id=$(uuidgen | tr -d '-')
span_id=$(openssl rand -hex 8)
user=$(whoami)
hostname=$(hostname)
payload=$(jq -cn --arg event_id "$event_id" --arg trace_id "$trace_id" --arg span_id "$span_id" \
  --arg kind "$kind" --arg customer "$customer" --arg version "$version" --arg status "$status" \
  --arg error "$error" --arg environment "${ENVIRONMENT:-production}" --arg user "$user" --arg host "$hostname" '
  (now | todate) as $ts | now as $t |
  {type: "transaction", event_id: $event_id, timestamp: $t, start_timestamp: $t, platform: "other",
   transaction: "deployment.completion", transaction_info: {source: "custom"},
   contexts: {
     trace: {trace_id: $trace_id, span_id: $span_id, op: "deployment",
             status: (if $status == "success" then "ok" else "internal_error" end)},
     deployment: {type: $kind, customer_id: $customer, environment: $environment, timestamp: $ts,
                  operator: $user, hostname: $host, status: $status, infra_version: $version}},
   tags: {customer_id: $customer, deployment_type: $kind, environment: $environment,
          event_type: "deployment_completion", deployment_status: $status, initiated_by: $user,
          infra_version: $version},
   extra: {deployment_metadata: {deployment_type: $kind, customer_id: $customer, infra_version: $version,
          environment: $environment, timestamp: $ts, user: $user, hostname: $host, status: $status,
          error_message: $error}},
   measurements: {}, spans: []}')
sent_at=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
answer=$(printf '{"event_id":"%s","sent_at":"%s"}\n{"type":"transaction","length":%d}\n%s\n' \
    "$event_id" "$sent_at" "${#payload}" "$payload" |
  curl --silent --show-error --connect-timeout 5 --max-time 25 "${cacert[@]}" -w '\n%{http_code}' \
    -X POST "$scheme://$host$prefix/api/$project/envelope/" \
    -H "X-Sentry-Auth: Sentry sentry_key=$pub, sentry_version=7, sentry_client=event-curl-jq/1" \
    -H 'Content-Type: application/x-sentry-envelope' --data-binary @-) || warn "Sentry is unreachable"
code=${answer##*$'\n'}
case $code in
  2??) echo "$event_id" ;;
  *) warn "Sentry answered HTTP $code" ;;
esac
