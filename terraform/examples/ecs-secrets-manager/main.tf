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
    error_message = "Sentry Relay credentials were not loaded from WorkOS Vault secret \"${var.vault_secret_name}\": status ${module.relay_credentials.status}: ${module.relay_credentials.reason}. No Secrets Manager secret is written and relay runs in proxy mode."
  }
}

locals {
  vault = module.relay_credentials.credentials
  found = module.relay_credentials.found

  sentry_dsn = var.sentry_dsn != null && var.sentry_dsn != "" ? var.sentry_dsn : local.vault.sentry_dsn

  # secret_string_wo is write-only: Terraform cannot see when it changes, so the (non-secret)
  # secret_string_wo_version must grow with every new vault version: version_number is the vault's
  # updated_at in microseconds (WorkOS version ids are random, not ordered).
  derived_version = module.relay_credentials.version_number
  secret_version  = var.secret_version != null ? var.secret_version : local.derived_version
}

module "relay_secret" {
  source = "../../modules/relay-secret"
  count  = local.found ? 1 : 0

  name                    = var.secret_name
  kms_key_id              = var.secret_kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_in_days
  credentials = {
    relay_id   = local.vault.relay_id
    public_key = local.vault.public_key
    secret_key = local.vault.secret_key
  }
  secret_version = local.secret_version != null ? local.secret_version : 1
}

check "secret_version_derived" {
  assert {
    condition     = !local.found || local.secret_version != null
    error_message = "Could not derive a secret version from the vault's updated_at (\"${module.relay_credentials.updated_at}\"); using 1. Set var.secret_version, or credential rotations will not reach Secrets Manager."
  }
}

resource "aws_iam_role" "execution" {
  name_prefix = "${var.family}-exec-"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ecs-tasks.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "read_relay_secret" {
  count  = local.found ? 1 : 0
  name   = "read-relay-credentials"
  role   = aws_iam_role.execution.id
  policy = module.relay_secret[0].read_policy_json
}

module "task_definition" {
  source = "../../modules/relay-task-definition"

  family             = var.family
  relay_image        = var.relay_image
  relay_upstream_url = var.relay_upstream_url
  backend_image      = var.backend_image
  execution_role_arn = aws_iam_role.execution.arn
  log_group_name     = var.log_group_name
  log_region         = var.region

  # Found: RELAY_MODE=managed, credentials injected by ECS from Secrets Manager ("<arn>:public_key::").
  # Not found: no secret, RELAY_MODE=proxy, no credential variables.
  relay_credentials_secret_arn = local.found ? module.relay_secret[0].arn : null

  # A DSN is not a credential (SDKs ship it to clients); it stays a plain variable.
  backend_environment = merge(
    var.backend_environment,
    local.sentry_dsn != "" ? { SENTRY_DSN = local.sentry_dsn } : {},
  )

  depends_on = [aws_iam_role_policy.read_relay_secret]
}
