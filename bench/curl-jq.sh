#!/bin/sh
# The curl + jq baseline for bench/run.sh: the same read-by-name and the same output
# mapping as `vault-fetch-relay` in Terraform mode, written the way a careful shell
# version would be (so the comparison is fair and the script is correct):
#   - query on stdin ({"api_key", "secret_name", "api_base"}, all optional strings),
#     falling back to WORKOS_API_KEY / WORKOS_VAULT_SECRET_NAME / WORKOS_API_BASE;
#   - GET $base/vault/v1/kv/name/<name percent-encoded as one path segment>;
#   - the API key reaches curl through a config on stdin, never argv (ps shows argv);
#   - SSL_CERT_FILE, if set, is passed as --cacert;
#   - stdout: {public_key, secret_key, relay_id, sentry_dsn, status}; every status but
#     "found" prints the credential keys empty, exits 0 and warns on stderr.
# Processes per run: sh, one jq for the query, curl, one jq for the response. Here-docs
# feed curl and jq without extra forks (dash writes small here-docs to a pipe itself).
# It does not check what the binary checks beyond field presence (UUID syntax, that the
# key pair belongs together): the binary does strictly more work per run.
set -u

missing() {
  printf '{"public_key":"","secret_key":"","relay_id":"","sentry_dsn":"","status":"%s"}\n' "$1"
  printf 'curl-jq: warning: %s: %s\n' "$1" "$2" >&2
  exit 0
}

# One jq reads the query and yields shell assignments. The env key is read through
# $ENV inside jq, not passed as an argument.
vars=$(jq -r '
  # jq 1.6 @uri leaves !*'"'"'() unescaped; the API wants all but A-Za-z0-9-._~ escaped.
  def uri: @uri | gsub("!"; "%21") | gsub("\\*"; "%2A") | gsub("'"'"'"; "%27") | gsub("\\("; "%28") | gsub("\\)"; "%29");
  def pick(q; d): ([q, d] | map(select(type == "string" and . != "")) | first) // "";
  @sh "api_key=\(pick(.api_key; $ENV.WORKOS_API_KEY))",
  @sh "api_base=\(pick(.api_base; $ENV.WORKOS_API_BASE) // "" | if . == "" then "https://api.workos.com" else . end)",
  @sh "name_enc=\(pick(.secret_name; $ENV.WORKOS_VAULT_SECRET_NAME) | if . == "" then "runlayer-sentry-credentials" else . end | uri)"
') || { echo "curl-jq: error: the query on stdin is not a JSON object" >&2; exit 1; }
eval "$vars"

[ -n "$api_key" ] || missing no_api_key "no WorkOS API key in the query or WORKOS_API_KEY"
# The key goes into a curl config line; refuse anything that could break out of it.
case $api_key in
  *[!A-Za-z0-9_.-]*) missing unauthorized "the API key has characters a WorkOS key never has" ;;
esac

set -- --silent --show-error --config - --connect-timeout 5 --max-time 30 --retry 3 \
  --user-agent curl-jq-baseline --header 'Accept: application/json' --write-out '\n%{http_code}'
[ -n "${SSL_CERT_FILE:-}" ] && set -- "$@" --cacert "$SSL_CERT_FILE"

resp=$(curl "$@" "${api_base%/}/vault/v1/kv/name/$name_enc" <<CONFIG
header = "Authorization: Bearer $api_key"
CONFIG
) || missing unavailable "curl failed (exit $?)"

nl='
'
code=${resp##*"$nl"}
body=${resp%"$nl"*}
case $code in
  200) ;;
  404) missing not_found "the secret does not exist in WorkOS Vault" ;;
  401) missing unauthorized "WorkOS rejected the API key" ;;
  403) missing forbidden "the API key may not read Vault objects" ;;
  *) missing unavailable "WorkOS Vault answered HTTP $code" ;;
esac

jq -ce '
  def str: type == "string" and . != "";
  ((.value | fromjson)? // null) as $v
  | if ($v | type) == "object" and ($v.id | str) and ($v.public_key | str) and ($v.secret_key | str)
    then {public_key: $v.public_key, secret_key: $v.secret_key, relay_id: $v.id,
          sentry_dsn: (if ($v.sentry_dsn | type) == "string" then $v.sentry_dsn else "" end),
          status: "found"}
    else null end
' <<BODY || missing invalid_secret "the secret does not hold {id, public_key, secret_key}"
$body
BODY
