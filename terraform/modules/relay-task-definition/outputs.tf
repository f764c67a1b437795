output "arn" {
  description = "ARN of the task definition (with revision)."
  value       = aws_ecs_task_definition.this.arn
}

output "family" {
  description = "Task definition family."
  value       = aws_ecs_task_definition.this.family
}

output "revision" {
  description = "Task definition revision."
  value       = aws_ecs_task_definition.this.revision
}

output "relay_mode" {
  description = "managed when credentials are passed to relay, proxy otherwise; init-container when config.yml written at task start decides (managed if the vault had credentials, proxy if not)."
  value       = local.relay_mode
}

output "container_definitions" {
  description = "The container definitions JSON registered (sensitive: with relay_credentials it holds them in clear text)."
  value       = aws_ecs_task_definition.this.container_definitions
  sensitive   = true
}
