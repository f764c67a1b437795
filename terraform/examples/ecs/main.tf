module "relay_credentials" {
  source = "../../modules/relay-credentials"

  workos_api_key = var.workos_api_key
  api_base       = var.workos_api_base
  secret_name    = var.vault_secret_name
  program        = var.vault_fetch_relay_program
  strict         = var.strict
  check_found    = false # the check below says it, next to what it means for this deployment
}

# Plan-time warning, never an error (strict = true makes a missing secret fail the plan instead).
check "relay_credentials_found" {
  assert {
    condition     = module.relay_credentials.found
    error_message = "Sentry Relay credentials were not loaded from WorkOS Vault secret \"${var.vault_secret_name}\": status ${module.relay_credentials.status}: ${module.relay_credentials.reason}. Relay runs in proxy mode."
  }
}

locals {
  vault = module.relay_credentials.credentials

  # coalesce() fails when every argument is empty, so pick with conditionals instead.
  sentry_dsn = var.sentry_dsn != null && var.sentry_dsn != "" ? var.sentry_dsn : local.vault.sentry_dsn
}

module "task_definition" {
  source = "../../modules/relay-task-definition"

  family             = var.family
  relay_image        = var.relay_image
  relay_upstream_url = var.relay_upstream_url
  backend_image      = var.backend_image
  execution_role_arn = var.execution_role_arn
  log_group_name     = var.log_group_name
  log_region         = var.region

  # Found: RELAY_MODE=managed plus RELAY_ID / RELAY_PUBLIC_KEY / RELAY_SECRET_KEY.
  # Not found: RELAY_MODE=proxy and no credential variables at all (relay exits on empty ones).
  relay_credentials = module.relay_credentials.found ? {
    relay_id   = local.vault.relay_id
    public_key = local.vault.public_key
    secret_key = local.vault.secret_key
  } : null

  backend_environment = merge(
    var.backend_environment,
    local.sentry_dsn != "" ? { SENTRY_DSN = local.sentry_dsn } : {},
  )
}
