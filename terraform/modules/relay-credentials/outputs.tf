output "credentials" {
  description = "Relay credentials and the Sentry DSN from the vault (empty strings unless found)."
  sensitive   = true
  value = {
    public_key = lookup(local.result, "public_key", "")
    secret_key = lookup(local.result, "secret_key", "")
    relay_id   = lookup(local.result, "relay_id", "")
    sentry_dsn = lookup(local.result, "sentry_dsn", "")
  }
}

output "found" {
  description = "True when valid relay credentials were read from the vault."
  value       = local.found
}

output "status" {
  description = "found, not_found, no_api_key, invalid_secret, unauthorized, forbidden or unavailable."
  value       = local.status
}

output "reason" {
  description = "Empty when found; otherwise one line saying what happened."
  value       = local.reason
}

output "version_id" {
  description = "WorkOS Vault version id of the secret (may be empty)."
  value       = lookup(local.result, "version_id", "")
}

output "updated_at" {
  description = "RFC 3339 time the vault secret was last updated (may be empty)."
  value       = lookup(local.result, "updated_at", "")
}

output "version_number" {
  description = "updated_at in microseconds since 1970: grows with every vault version, for secret_string_wo_version. Null when unknown (or with the original script, which printed no such key)."
  value       = lookup(local.result, "version_number", "") == "" ? null : tonumber(local.result.version_number)
}
