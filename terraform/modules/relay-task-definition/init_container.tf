# The init-container option: a non-essential container "fetch-credentials" (vault-fetch-relay `init`) writes relay's
# config.yml (and credentials.json when found) into a task volume at every task start; relay starts after it exited
# 0 and reads that directory. Terraform never sees a credential: the task definition holds only the ARN of the
# WorkOS API key, which ECS injects into the fetch container alone.

variable "init_container" {
  description = "Fetch the credentials at task start instead of passing them in: image (vault-fetch-relay), workos_api_key_arn (Secrets Manager secret ARN, optionally with \":json-key::\", or SSM parameter ARN of the WorkOS API key), and optional secret_name, api_base, strict, verify_upstream (ask relay_upstream_url whether Sentry accepts the credentials before writing managed-mode files), kms_key_arn (key that encrypts the API key secret). Null: no init container."
  type = object({
    image              = string
    workos_api_key_arn = string
    secret_name        = optional(string, "runlayer-sentry-credentials")
    api_base           = optional(string, "https://api.workos.com")
    strict             = optional(bool, false)
    verify_upstream    = optional(bool, false)
    kms_key_arn        = optional(string)
  })
  default = null

  validation {
    condition     = var.init_container == null || can(regex("^arn:[^:]+:(secretsmanager:[^:]*:[0-9]*:secret:.+|ssm:[^:]*:[0-9]*:parameter/.+)$", var.init_container.workos_api_key_arn))
    error_message = "init_container.workos_api_key_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:...:secret:NAME) or an SSM parameter ARN (arn:aws:ssm:...:parameter/NAME)."
  }
}

variable "run_as_user" {
  description = "uid:gid relay runs as together with the container that fills its task volume: fetch-credentials with init_container (init writes the files with mode 0600, so relay must be the same user), install-vault-fetch-relay with relay_exec.install_image. 65532 is the vault-fetch-relay image's user."
  type        = string
  default     = "65532:65532"
  nullable    = false
}

locals {
  use_init         = var.init_container != null
  init_volume      = "relay-config"
  init_config_path = "/relay"

  init_mount = {
    sourceVolume  = local.init_volume
    containerPath = local.init_config_path
  }

  fetch_container = local.use_init ? {
    name      = "fetch-credentials"
    image     = var.init_container.image
    essential = false
    command   = ["init", "--dir", local.init_config_path]
    user      = var.run_as_user
    environment = [
      { name = "WORKOS_VAULT_SECRET_NAME", value = var.init_container.secret_name },
      { name = "WORKOS_API_BASE", value = var.init_container.api_base },
      { name = "RELAY_UPSTREAM_URL", value = var.relay_upstream_url },
      { name = "VAULT_FETCH_STRICT", value = tostring(var.init_container.strict) },
      { name = "VAULT_FETCH_VERIFY_UPSTREAM", value = tostring(var.init_container.verify_upstream) },
    ]
    # The only secret in the task definition, and only this container gets it.
    secrets                = [{ name = "WORKOS_API_KEY", valueFrom = var.init_container.workos_api_key_arn }]
    mountPoints            = [merge(local.init_mount, { readOnly = false })]
    readonlyRootFilesystem = true
    logConfiguration       = local.log_configuration
  } : null

  # Relay starts once fetch-credentials exited 0, as its user (the files are 0600), from its directory.
  relay_with_init = local.use_init ? {
    command     = ["run", "--config", local.init_config_path]
    user        = var.run_as_user
    mountPoints = [merge(local.init_mount, { readOnly = true })]
    dependsOn   = [{ containerName = "fetch-credentials", condition = "SUCCESS" }]
  } : null
}

output "init_container_policy_json" {
  description = "IAM policy for the execution role with init_container: read the WorkOS API key (and decrypt it with kms_key_arn) and nothing else. Null without init_container."
  value       = local.use_init ? jsonencode(local.api_key_policy) : null
}
