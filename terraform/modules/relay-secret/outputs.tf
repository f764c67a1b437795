output "arn" {
  description = "ARN of the secret (use \"<arn>:public_key::\" etc. in ECS secrets)."
  # Depends on the version so that task definitions are registered after the value exists.
  value = aws_secretsmanager_secret_version.this.arn
}

output "read_policy_json" {
  description = "IAM policy allowing secretsmanager:GetSecretValue on this secret (and kms:Decrypt on its key)."
  value       = jsonencode(local.read_policy)
}

output "secret_version" {
  description = "The secret_string_wo_version written (grows with every vault version)."
  value       = aws_secretsmanager_secret_version.this.secret_string_wo_version
}

output "secret_arn" {
  description = "ARN of the secret itself (the one resource read_policy_json grants)."
  value       = aws_secretsmanager_secret.this.arn
}
