locals {
  # Relay refuses to start with empty RELAY_ID / RELAY_PUBLIC_KEY / RELAY_SECRET_KEY ("invalid config value"),
  # and in managed mode without credentials ("relay has no credentials"). So: managed with all three,
  # proxy with none. With the init container, config.yml (written at task start) decides: no RELAY_MODE here,
  # since the variable would override the file and force managed mode without credentials. With exec, exec
  # sets RELAY_MODE (and the credentials) for relay at every start.
  use_secret  = var.relay_credentials_secret_arn != null
  use_env     = !local.use_secret && nonsensitive(var.relay_credentials != null)
  relay_mode  = local.use_init ? "init-container" : local.use_exec ? "exec" : local.use_secret || local.use_env ? "managed" : "proxy"
  credentials = local.use_env ? var.relay_credentials : null

  relay_environment = concat(
    local.use_init || local.use_exec ? [] : [{ name = "RELAY_MODE", value = local.relay_mode }],
    [
      { name = "RELAY_UPSTREAM_URL", value = var.relay_upstream_url },
      { name = "RELAY_HOST", value = "0.0.0.0" },
      { name = "RELAY_PORT", value = tostring(var.relay_port) },
      { name = "RELAY_LOG_LEVEL", value = var.relay_log_level },
      { name = "RELAY_LOG_FORMAT", value = var.relay_log_format },
    ],
    local.use_env ? [
      { name = "RELAY_ID", value = local.credentials.relay_id },
      { name = "RELAY_PUBLIC_KEY", value = local.credentials.public_key },
      { name = "RELAY_SECRET_KEY", value = local.credentials.secret_key },
    ] : [],
  )

  # ECS JSON-key syntax: <secret arn>:<json key>:<version stage>:<version id>
  relay_secrets = local.use_secret ? [
    { name = "RELAY_ID", valueFrom = "${var.relay_credentials_secret_arn}:relay_id::" },
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

  relay_container = merge(
    {
      name             = "sentry-relay"
      image            = var.relay_image
      essential        = true
      command          = ["run"]
      environment      = local.relay_environment
      secrets          = local.relay_secrets
      portMappings     = [{ containerPort = var.relay_port, protocol = "tcp" }]
      logConfiguration = local.log_configuration
    },
    # What init_container.tf or exec.tf change in relay's container (at most one is set). A list of the
    # non-null ones, expanded: a conditional would need both sides of one type.
    [for overrides in [local.relay_with_init, local.relay_with_exec] : overrides if overrides != null]...
  )

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
    [for c in [local.fetch_container, local.install_container] : c if c != null],
    [local.relay_container, local.backend_container],
  ))

  # Task storage shared by two containers, gone with the task: init_container.tf's credential files, or
  # exec.tf's copy of the vault-fetch-relay binary.
  dynamic "volume" {
    for_each = concat(local.use_init ? [local.init_volume] : [], local.exec_install ? [local.exec_volume] : [])
    content {
      name = volume.value
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = (!local.use_secret && !local.use_api_key && var.log_group_name == null) || var.execution_role_arn != null
      error_message = "execution_role_arn is required when relay_credentials_secret_arn, init_container, relay_exec or log_group_name is set (ECS reads the secrets and writes the logs with it)."
    }
    precondition {
      condition     = !local.use_init || (!local.use_secret && !local.use_env)
      error_message = "init_container fetches the credentials at task start: leave relay_credentials and relay_credentials_secret_arn null."
    }
    precondition {
      condition     = !(local.use_init && local.use_exec)
      error_message = "init_container and relay_exec are two ways of fetching the credentials: set one."
    }
    precondition {
      condition     = !local.use_exec || (!local.use_secret && !local.use_env)
      error_message = "relay_exec fetches the credentials in the task: leave relay_credentials and relay_credentials_secret_arn null."
    }
  }
}
