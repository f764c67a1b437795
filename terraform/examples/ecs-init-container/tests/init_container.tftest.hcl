# The whole example against a mocked AWS provider: what ECS would be given, decoded.

mock_provider "aws" {
  # Computed attributes the provider validates as ARNs downstream.
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/runlayer-relay-exec"
    }
  }
}

variables {
  workos_api_key_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:backend/auth-AbCdEf:AUTH_API_KEY::"
}

run "task_gets_references_only" {
  command = apply

  assert {
    condition = [for c in jsondecode(module.task_definition.container_definitions) : {
      name      = c.name
      essential = c.essential
      secrets   = [for s in lookup(c, "secrets", []) : s.valueFrom]
      dependsOn = lookup(c, "dependsOn", [])
      }] == [
      { name = "fetch-credentials", essential = false, secrets = [var.workos_api_key_arn], dependsOn = [] },
      { name = "sentry-relay", essential = true, secrets = [], dependsOn = [{ containerName = "fetch-credentials", condition = "SUCCESS" }] },
      { name = "backend", essential = true, secrets = [], dependsOn = [] },
    ]
    error_message = "fetch-credentials alone gets the API key (by reference); relay waits for its success"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.read_workos_api_key.policy).Statement[*].Resource == [["arn:aws:secretsmanager:us-east-1:123456789012:secret:backend/auth-AbCdEf"]]
    error_message = "the execution role may read exactly the API key's secret"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.read_workos_api_key.policy).Statement[*].Action == [["secretsmanager:GetSecretValue"]]
    error_message = "read only"
  }
  assert {
    condition     = aws_iam_role_policy.read_workos_api_key.role == aws_iam_role.execution.id
    error_message = "the policy is the execution role's"
  }
  assert {
    condition     = output.relay_mode == "init-container"
    error_message = "the mode is decided at task start"
  }
}
