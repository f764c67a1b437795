# Option: relay supervised by `vault-fetch-relay exec` (issue 10). exec fetches the credentials from WorkOS
# Vault inside the task, starts relay with them in relay's environment only (no credentials in the task
# definition or in Terraform state), re-reads the secret every `interval` and restarts relay in place when
# the credentials rotate or appear after a start in proxy mode. The WorkOS API key comes from Secrets Manager
# or SSM (api_key_secret_arn) and is not passed on to relay.
#
# The binary reaches relay's container one of two ways:
#   - install_image = null: relay_image already holds /bin/vault-fetch-relay (examples/relay-with-exec/Dockerfile);
#   - install_image = "<vault-fetch-relay image>": a non-essential container copies it into a task volume
#     (`install /vfr`) and relay starts after it succeeded.

variable "relay_exec" {
  description = "Run relay under `vault-fetch-relay exec` (credentials fetched in the task and kept current). Null: relay_credentials / relay_credentials_secret_arn as before. Not combinable with them."
  type = object({
    api_key_secret_arn = string
    api_base           = optional(string, "https://api.workos.com")
    secret_name        = optional(string, "runlayer-sentry-credentials")
    interval           = optional(string, "5m")
    strict             = optional(bool, false)
    install_image      = optional(string)
  })
  default = null
}

locals {
  use_exec     = var.relay_exec != null
  exec_install = local.use_exec && try(var.relay_exec.install_image != null, false)
  exec_binary  = local.exec_install ? "/vfr/vault-fetch-relay" : "/bin/vault-fetch-relay"

  # exec sets RELAY_MODE (and the credentials) for relay itself.
  exec_relay_overrides = [for _ in local.use_exec ? [1] : [] : {
    entryPoint = [local.exec_binary, "exec", "--", "/bin/relay"]
    command    = ["run"]
    environment = concat(
      [
        { name = "WORKOS_API_BASE", value = var.relay_exec.api_base },
        { name = "WORKOS_VAULT_SECRET_NAME", value = var.relay_exec.secret_name },
        { name = "VAULT_FETCH_INTERVAL", value = var.relay_exec.interval },
      ],
      var.relay_exec.strict ? [{ name = "VAULT_FETCH_STRICT", value = "true" }] : [],
      [for e in local.relay_environment : e if e.name != "RELAY_MODE"],
    )
    secrets     = [{ name = "WORKOS_API_KEY", valueFrom = var.relay_exec.api_key_secret_arn }]
    mountPoints = local.exec_install ? [{ sourceVolume = "vault-fetch-relay", containerPath = "/vfr", readOnly = true }] : []
    dependsOn   = local.exec_install ? [{ containerName = "install-vault-fetch-relay", condition = "SUCCESS" }] : []
  }]

  exec_install_containers = [for _ in local.exec_install ? [1] : [] : {
    name             = "install-vault-fetch-relay"
    image            = var.relay_exec.install_image
    essential        = false
    command          = ["install", "/vfr"]
    mountPoints      = [{ sourceVolume = "vault-fetch-relay", containerPath = "/vfr", readOnly = false }]
    logConfiguration = local.log_configuration
  }]
}
