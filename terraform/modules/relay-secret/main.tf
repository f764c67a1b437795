resource "aws_secretsmanager_secret" "this" {
  name                    = var.name
  description             = "Sentry Relay credentials (relay_id, public_key, secret_key), copied from WorkOS Vault by vault-fetch-relay."
  kms_key_id              = var.kms_key_id
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id = aws_secretsmanager_secret.this.id

  # The field names vault-fetch-relay prints; ECS reads single keys with "<arn>:<key>::".
  secret_string_wo = jsonencode({
    relay_id   = var.credentials.relay_id
    public_key = var.credentials.public_key
    secret_key = var.credentials.secret_key
  })
  secret_string_wo_version = var.secret_version
}

# What a task execution role needs to inject the secret into a container: this secret (and its key), nothing else.
locals {
  read_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid      = "ReadRelayCredentials"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [aws_secretsmanager_secret.this.arn]
      }],
      var.kms_key_id == null ? [] : [{
        Sid      = "DecryptRelayCredentials"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.kms_key_id]
      }],
    )
  }
}
