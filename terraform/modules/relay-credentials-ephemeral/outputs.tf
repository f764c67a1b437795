output "credentials" {
  description = "Ephemeral: the program's whole result object; use .relay_id, .public_key, .secret_key and .sentry_dsn (empty strings unless found). Only ephemeral contexts accept it: write-only arguments such as secret_string_wo, provider blocks, ephemeral resources, ephemeral outputs and check blocks."
  ephemeral   = true
  sensitive   = true
  # The whole decoded object: Terraform proves an output ephemeral only when its value is one ephemeral value, so
  # an object built here field by field would be refused.
  value = local.result
}

output "found" {
  description = "True when valid relay credentials were read from the vault (safe in count and for_each)."
  value       = local.found
}

output "status" {
  description = "found, not_found, no_api_key, invalid_secret, unauthorized, forbidden or unavailable."
  value       = local.status
}

output "reason" {
  description = "Empty when found; otherwise one line saying what happened."
  value       = local.outcome.reason
}

output "version_id" {
  description = "WorkOS Vault version id of the secret (may be empty)."
  value       = local.outcome.version_id
}

output "updated_at" {
  description = "RFC 3339 time the vault secret was last updated (may be empty)."
  value       = local.outcome.updated_at
}

output "version_number" {
  description = "updated_at in microseconds since 1970: grows with every vault version, for secret_string_wo_version. Null when the vault gave no updated_at."
  value       = local.outcome.version_number == "" ? null : tonumber(local.outcome.version_number)
}
