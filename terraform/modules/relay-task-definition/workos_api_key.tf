# The WorkOS API key both fetching options read (init_container.workos_api_key_arn or
# relay_exec.workos_api_key_arn, at most one is set), and what the execution role needs to inject it: read
# exactly that secret or parameter (and decrypt it with kms_key_arn), nothing else.

locals {
  use_api_key = local.use_init || local.use_exec

  # A Secrets Manager valueFrom may carry ":json-key:stage:version"; IAM wants the secret's own ARN (7 fields).
  api_key_arn      = local.use_init ? var.init_container.workos_api_key_arn : local.use_exec ? var.relay_exec.workos_api_key_arn : ""
  api_key_is_ssm   = startswith(element(concat(split(":", local.api_key_arn), ["", "", ""]), 2), "ssm")
  api_key_resource = local.api_key_is_ssm ? local.api_key_arn : join(":", slice(split(":", local.api_key_arn), 0, min(7, length(split(":", local.api_key_arn)))))
  api_key_kms      = local.use_init ? var.init_container.kms_key_arn : local.use_exec ? var.relay_exec.kms_key_arn : null

  api_key_policy = !local.use_api_key ? null : {
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid      = "ReadWorkosApiKey"
        Effect   = "Allow"
        Action   = local.api_key_is_ssm ? ["ssm:GetParameters"] : ["secretsmanager:GetSecretValue"]
        Resource = [local.api_key_resource]
      }],
      local.api_key_kms == null ? [] : [{
        Sid      = "DecryptWorkosApiKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [local.api_key_kms]
      }],
    )
  }
}
