output "task_definition_arn" {
  description = "ARN of the registered task definition."
  value       = module.task_definition.arn
}

output "relay_mode" {
  description = "managed when vault credentials were found, proxy otherwise."
  value       = module.task_definition.relay_mode
}

output "relay_credentials_status" {
  description = "Status reported by vault-fetch-relay."
  value       = module.relay_credentials.status
}

output "relay_credentials_reason" {
  description = "Why credentials were not loaded (empty when found)."
  value       = module.relay_credentials.reason
}

output "deployment_event_enabled" {
  description = "Whether an apply reports a deployment event (deployment_event is set and a DSN is known)."
  value       = local.deployment_event_enabled
}
