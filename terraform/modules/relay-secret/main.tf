resource "aws_secretsmanager_secret" "this" {
  name                    = var.name
  description             = "Sentry Relay credentials (id, public_key, secret_key), copied from WorkOS Vault by vault-fetch-relay."
  kms_key_id              = var.kms_key_id
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id = aws_secretsmanager_secret.this.id

  # Same field names as relay's credentials.json; ECS reads single keys with "<arn>:<key>::".
  secret_string_wo = jsonencode({
    id         = var.credentials.id
    public_key = var.credentials.public_key
    secret_key = var.credentials.secret_key
  })
  secret_string_wo_version = var.secret_version
}

# What a task execution role needs to inject the secret into a container.
data "aws_iam_policy_document" "read" {
  statement {
    sid       = "ReadRelayCredentials"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.this.arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_id == null ? [] : [var.kms_key_id]
    content {
      sid       = "DecryptRelayCredentials"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}
