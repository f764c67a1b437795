# Option: relay supervised by `vault-fetch-relay exec` (issue 10). exec fetches the credentials from WorkOS
# Vault inside the task, starts relay with them in relay's environment only (no credentials in the task
# definition or in Terraform state), re-reads the secret every `interval` and restarts relay in place when
# the credentials rotate or appear after a start in proxy mode. The WorkOS API key comes from Secrets Manager
# or SSM (workos_api_key_arn, injected by ECS into relay's container) and is not passed on to relay.
#
# The binary reaches relay's container one of two ways:
#   - install_image = null: relay_image already holds /bin/vault-fetch-relay (examples/relay-with-exec/Dockerfile);
#   - install_image = "<vault-fetch-relay image>": a non-essential container copies it into a task volume
#     (`install /vfr`) and relay starts after it succeeded.

variable "relay_exec" {
  description = "Run relay under `vault-fetch-relay exec` (credentials fetched in the task and kept current): workos_api_key_arn (as for init_container), optional secret_name, api_base, interval, grace, strict, verify_upstream (ask relay_upstream_url whether Sentry accepts the credentials before relay starts or restarts into them), kms_key_arn, install_image (vault-fetch-relay image that copies the binary into a task volume; null: relay_image has /bin/vault-fetch-relay). Null: no exec. Not combinable with init_container, relay_credentials or relay_credentials_secret_arn."
  type = object({
    workos_api_key_arn = string
    secret_name        = optional(string, "runlayer-sentry-credentials")
    api_base           = optional(string, "https://api.workos.com")
    interval           = optional(string, "5m")
    grace              = optional(string, "30s")
    strict             = optional(bool, false)
    verify_upstream    = optional(bool, false)
    kms_key_arn        = optional(string)
    install_image      = optional(string)
  })
  default = null

  validation {
    condition     = var.relay_exec == null || can(regex("^arn:[^:]+:(secretsmanager:[^:]*:[0-9]*:secret:.+|ssm:[^:]*:[0-9]*:parameter/.+)$", var.relay_exec.workos_api_key_arn))
    error_message = "relay_exec.workos_api_key_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:...:secret:NAME) or an SSM parameter ARN (arn:aws:ssm:...:parameter/NAME)."
  }
}

locals {
  use_exec          = var.relay_exec != null
  exec_install      = local.use_exec && try(var.relay_exec.install_image != null, false)
  exec_volume       = "vault-fetch-relay"
  exec_install_path = "/vfr"
  exec_binary       = local.exec_install ? "${local.exec_install_path}/vault-fetch-relay" : "/bin/vault-fetch-relay"

  exec_mount = {
    sourceVolume  = local.exec_volume
    containerPath = local.exec_install_path
  }

  # exec sets RELAY_MODE (and the credentials) for relay itself: relay_environment has no RELAY_MODE with exec.
  relay_with_exec = local.use_exec ? merge(
    {
      entryPoint = [local.exec_binary, "exec", "--", "/bin/relay"]
      command    = ["run"]
      environment = concat(
        [
          { name = "WORKOS_VAULT_SECRET_NAME", value = var.relay_exec.secret_name },
          { name = "WORKOS_API_BASE", value = var.relay_exec.api_base },
          { name = "VAULT_FETCH_INTERVAL", value = var.relay_exec.interval },
          { name = "VAULT_FETCH_GRACE", value = var.relay_exec.grace },
          { name = "VAULT_FETCH_STRICT", value = tostring(var.relay_exec.strict) },
          { name = "VAULT_FETCH_VERIFY_UPSTREAM", value = tostring(var.relay_exec.verify_upstream) },
        ],
        local.relay_environment,
      )
      # The only secret in the task definition, and only relay's container (exec, its PID 1) gets it.
      secrets = [{ name = "WORKOS_API_KEY", valueFrom = var.relay_exec.workos_api_key_arn }]
    },
    # With the install container: run the copy, after it exited 0, as the same user that wrote the volume.
    # (A list of zero or one objects, expanded: a conditional would need both sides of one type.)
    [for install in [{
      user        = var.run_as_user
      mountPoints = [merge(local.exec_mount, { readOnly = true })]
      dependsOn   = [{ containerName = "install-vault-fetch-relay", condition = "SUCCESS" }]
    }] : install if local.exec_install]...
  ) : null

  # Copies its own executable (0755, atomically) into the task volume; needs no API key.
  install_container = local.exec_install ? {
    name                   = "install-vault-fetch-relay"
    image                  = var.relay_exec.install_image
    essential              = false
    command                = ["install", local.exec_install_path]
    user                   = var.run_as_user
    mountPoints            = [merge(local.exec_mount, { readOnly = false })]
    readonlyRootFilesystem = true
    logConfiguration       = local.log_configuration
  } : null
}

output "relay_exec_policy_json" {
  description = "IAM policy for the execution role with relay_exec: read the WorkOS API key (and decrypt it with kms_key_arn) and nothing else. Null without relay_exec."
  value       = local.use_exec ? jsonencode(local.api_key_policy) : null
}
