# Credentials go vault -> (ephemeral) -> Secrets Manager via secret_string_wo -> ECS injects them into relay.
# The state holds the outcome of the read (status, version) and the secret's ARN; never a credential value.
module "relay_credentials" {
  source = "../../modules/relay-credentials-ephemeral"

  api_base    = var.workos_api_base
  secret_name = var.vault_secret_name
  program     = var.vault_fetch_relay_program
  strict      = var.strict
  check_found = false # the check below says it, next to what it means for this deployment
}

locals {
  # From the outcome read (state-safe): may drive count.
  found = module.relay_credentials.found
}

# Plan-time warning, never an error (strict = true makes a missing secret fail the plan instead).
check "relay_credentials_found" {
  assert {
    condition     = local.found
    error_message = "Sentry Relay credentials were not loaded from WorkOS Vault secret \"${var.vault_secret_name}\": status ${module.relay_credentials.status}: ${module.relay_credentials.reason}. No Secrets Manager secret is written and relay runs in proxy mode."
  }
}

module "relay_secret" {
  source = "../../modules/relay-secret"
  count  = local.found ? 1 : 0

  name                    = var.secret_name
  kms_key_id              = var.secret_kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_in_days
  # Ephemeral into a write-only argument: never in plan or state.
  credentials = {
    relay_id   = module.relay_credentials.credentials.relay_id
    public_key = module.relay_credentials.credentials.public_key
    secret_key = module.relay_credentials.credentials.secret_key
  }
  # Grows with every vault version, so a rotation in the vault rewrites the secret at the next apply.
  secret_version = coalesce(module.relay_credentials.version_number, 1)
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

  # Found: RELAY_MODE=managed, RELAY_ID / RELAY_PUBLIC_KEY / RELAY_SECRET_KEY from "<arn>:<key>::".
  # Not found: no secret, RELAY_MODE=proxy, no credential variables (the module's check block warned at plan).
  relay_credentials_secret_arn = local.found ? module.relay_secret[0].arn : null

  backend_environment = merge(
    var.backend_environment,
    var.sentry_dsn != null && var.sentry_dsn != "" ? { SENTRY_DSN = var.sentry_dsn } : {},
  )

  depends_on = [aws_iam_role_policy.read_relay_secret]
}
