locals {
  # Relay refuses to start with empty RELAY_ID / RELAY_PUBLIC_KEY / RELAY_SECRET_KEY ("invalid config value"),
  # and in managed mode without credentials ("relay has no credentials"). So: managed with all three,
  # proxy with none.
  use_secret  = var.relay_credentials_secret_arn != null
  use_env     = !local.use_secret && nonsensitive(var.relay_credentials != null)
  relay_mode  = local.use_secret || local.use_env ? "managed" : "proxy"
  credentials = local.use_env ? var.relay_credentials : null

  relay_environment = concat(
    [
      { name = "RELAY_MODE", value = local.relay_mode },
      { name = "RELAY_UPSTREAM_URL", value = var.relay_upstream_url },
      { name = "RELAY_HOST", value = "0.0.0.0" },
      { name = "RELAY_PORT", value = tostring(var.relay_port) },
      { name = "RELAY_LOG_LEVEL", value = var.relay_log_level },
      { name = "RELAY_LOG_FORMAT", value = var.relay_log_format },
    ],
    local.use_env ? [
      { name = "RELAY_ID", value = local.credentials.id },
      { name = "RELAY_PUBLIC_KEY", value = local.credentials.public_key },
      { name = "RELAY_SECRET_KEY", value = local.credentials.secret_key },
    ] : [],
  )

  # ECS JSON-key syntax: <secret arn>:<json key>:<version stage>:<version id>
  relay_secrets = local.use_secret ? [
    { name = "RELAY_ID", valueFrom = "${var.relay_credentials_secret_arn}:id::" },
    { name = "RELAY_PUBLIC_KEY", valueFrom = "${var.relay_credentials_secret_arn}:public_key::" },
    { name = "RELAY_SECRET_KEY", valueFrom = "${var.relay_credentials_secret_arn}:secret_key::" },
  ] : []

  log_configuration = var.log_group_name == null ? null : {
    logDriver = "awslogs"
    options = {
      awslogs-group         = var.log_group_name
      awslogs-region        = var.log_region
      awslogs-stream-prefix = var.family
    }
  }

  relay_container = {
    name             = "sentry-relay"
    image            = var.relay_image
    essential        = true
    command          = ["run"]
    environment      = local.relay_environment
    secrets          = local.relay_secrets
    portMappings     = [{ containerPort = var.relay_port, protocol = "tcp" }]
    logConfiguration = local.log_configuration
  }

  backend_container = {
    name             = var.backend_name
    image            = var.backend_image
    essential        = true
    environment      = [for name, value in var.backend_environment : { name = name, value = value }]
    secrets          = [for name, value_from in var.backend_secrets : { name = name, valueFrom = value_from }]
    portMappings     = [{ containerPort = var.backend_port, protocol = "tcp" }]
    logConfiguration = local.log_configuration
  }
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arn

  container_definitions = jsonencode(concat(
    local.exec_install_containers,
    [merge(local.relay_container, local.exec_relay_overrides...), local.backend_container],
  ))

  # exec.tf: the task volume the install container fills with the vault-fetch-relay binary.
  dynamic "volume" {
    for_each = local.exec_install ? ["vault-fetch-relay"] : []
    content {
      name = volume.value
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = (!local.use_secret && var.log_group_name == null) || var.execution_role_arn != null
      error_message = "execution_role_arn is required when relay_credentials_secret_arn or log_group_name is set."
    }
    precondition {
      condition     = !local.use_exec || (!local.use_secret && !local.use_env && var.execution_role_arn != null)
      error_message = "relay_exec fetches the credentials itself: leave relay_credentials and relay_credentials_secret_arn unset, and set execution_role_arn (it reads relay_exec.api_key_secret_arn)."
    }
  }
}
