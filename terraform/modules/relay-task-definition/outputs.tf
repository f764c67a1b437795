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
  description = "managed when credentials are passed to relay, proxy otherwise."
  value       = local.relay_mode
}
