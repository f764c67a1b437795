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

# The execution role reads exactly the WorkOS API key (ECS injects it into fetch-credentials at start).
resource "aws_iam_role_policy" "read_workos_api_key" {
  name   = "read-workos-api-key"
  role   = aws_iam_role.execution.id
  policy = module.task_definition.init_container_policy_json
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

  # fetch-credentials (non-essential) writes config.yml (+ credentials.json when found) to the task volume /relay;
  # relay starts after it exited 0, with `run --config /relay`, as the same uid.
  init_container = {
    image              = var.vault_fetch_relay_image
    workos_api_key_arn = var.workos_api_key_arn
    kms_key_arn        = var.workos_api_key_kms_key_arn
    secret_name        = var.vault_secret_name
    api_base           = var.workos_api_base
    strict             = var.strict
  }

  backend_environment = var.backend_environment
}
