output "task_definition_arn" {
  description = "ARN of the registered task definition."
  value       = module.task_definition.arn
}

output "relay_mode" {
  description = "managed when vault credentials were found, proxy otherwise."
  value       = module.task_definition.relay_mode
}

output "relay_credentials_status" {
  description = "Status reported by vault-fetch-relay's outcome read."
  value       = module.relay_credentials.status
}

output "relay_credentials_reason" {
  description = "Why credentials were not loaded (empty when found)."
  value       = module.relay_credentials.reason
}

output "relay_secret_arn" {
  description = "ARN of the Secrets Manager secret (null when no credentials were found)."
  value       = local.found ? module.relay_secret[0].arn : null
}
