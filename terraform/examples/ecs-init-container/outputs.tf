output "task_definition_arn" {
  description = "ARN of the registered task definition."
  value       = module.task_definition.arn
}

output "relay_mode" {
  description = "init-container: the mode is decided at every task start (managed with credentials, proxy without)."
  value       = module.task_definition.relay_mode
}

output "execution_role_arn" {
  description = "Execution role; it may read the WorkOS API key and nothing else of yours."
  value       = aws_iam_role.execution.arn
}
