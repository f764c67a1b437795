output "arn" {
  description = "ARN of the secret (use \"<arn>:public_key::\" etc. in ECS secrets)."
  # Depends on the version so that task definitions are registered after the value exists.
  value = aws_secretsmanager_secret_version.this.arn
}

output "read_policy_json" {
  description = "IAM policy allowing secretsmanager:GetSecretValue on this secret (and kms:Decrypt on its key)."
  value       = data.aws_iam_policy_document.read.json
}
