# terraform test for the relay_exec option (exec.tf), AWS mocked, plan only: relay under
# `vault-fetch-relay exec`, the binary from an install container or from relay_image, and the preconditions
# that keep it apart from the other ways of getting the credentials. Driven by tests/terraform_files.rs.

mock_provider "aws" {}

variables {
  backend_image      = "backend"
  execution_role_arn = "arn:aws:iam::123456789012:role/exec"
}

run "exec_with_install_container" {
  command = plan

  variables {
    family = "exec"
    relay_exec = {
      workos_api_key_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:backend-AbCdEf:AUTH_API_KEY::"
      secret_name        = "relay-creds"
      interval           = "2m"
      install_image      = "vault-fetch-relay:test"
    }
  }

  assert {
    condition     = [for c in jsondecode(aws_ecs_task_definition.this.container_definitions) : c.name] == ["install-vault-fetch-relay", "sentry-relay", "backend"]
    error_message = "install-vault-fetch-relay comes first, then relay and the backend"
  }
  assert {
    condition = {
      for k, v in jsondecode(aws_ecs_task_definition.this.container_definitions)[0] : k => v
      if contains(["image", "essential", "command", "user", "mountPoints", "readonlyRootFilesystem"], k)
      } == {
      image                  = "vault-fetch-relay:test"
      essential              = false
      command                = ["install", "/vfr"]
      user                   = "65532:65532"
      mountPoints            = [{ sourceVolume = "vault-fetch-relay", containerPath = "/vfr", readOnly = false }]
      readonlyRootFilesystem = true
    }
    error_message = "install container: non-essential, install /vfr, the relay uid, the shared volume writable, read-only root"
  }
  assert {
    condition     = length(lookup(jsondecode(aws_ecs_task_definition.this.container_definitions)[0], "secrets", [])) == 0 && length(lookup(jsondecode(aws_ecs_task_definition.this.container_definitions)[0], "environment", [])) == 0
    error_message = "the install container needs no API key and no settings"
  }
  assert {
    condition = {
      for k, v in jsondecode(aws_ecs_task_definition.this.container_definitions)[1] : k => v
      if contains(["entryPoint", "command", "user", "mountPoints", "dependsOn", "secrets"], k)
      } == {
      entryPoint  = ["/vfr/vault-fetch-relay", "exec", "--", "/bin/relay"]
      command     = ["run"]
      user        = "65532:65532"
      mountPoints = [{ sourceVolume = "vault-fetch-relay", containerPath = "/vfr", readOnly = true }]
      dependsOn   = [{ containerName = "install-vault-fetch-relay", condition = "SUCCESS" }]
      secrets     = [{ name = "WORKOS_API_KEY", valueFrom = "arn:aws:secretsmanager:us-east-1:123456789012:secret:backend-AbCdEf:AUTH_API_KEY::" }]
    }
    error_message = "relay: exec from the volume as PID 1, relay run after the install succeeded, the API key by reference"
  }
  assert {
    condition = {
      for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[1].environment : e.name => e.value
      if startswith(e.name, "WORKOS_") || startswith(e.name, "VAULT_FETCH_")
      } == {
      WORKOS_VAULT_SECRET_NAME    = "relay-creds"
      WORKOS_API_BASE             = "https://api.workos.com"
      VAULT_FETCH_INTERVAL        = "2m"
      VAULT_FETCH_GRACE           = "30s"
      VAULT_FETCH_STRICT          = "false"
      VAULT_FETCH_VERIFY_UPSTREAM = "false"
    }
    error_message = "exec's settings are plain variables of relay's container; the API key is not one of them"
  }
  assert {
    condition = length([
      for e in concat(jsondecode(aws_ecs_task_definition.this.container_definitions)[1].environment, jsondecode(aws_ecs_task_definition.this.container_definitions)[1].secrets) : e
      if contains(["RELAY_MODE", "RELAY_ID", "RELAY_PUBLIC_KEY", "RELAY_SECRET_KEY"], e.name)
    ]) == 0
    error_message = "exec sets RELAY_MODE and the credentials for relay: none in the task definition"
  }
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[1].environment : e.name => e.value }["RELAY_UPSTREAM_URL"] == "https://sentry.io/"
    error_message = "relay's own settings stay"
  }
  assert {
    condition     = [for c in jsondecode(aws_ecs_task_definition.this.container_definitions) : c.name if length(lookup(c, "secrets", [])) > 0] == ["sentry-relay"]
    error_message = "only relay's container (exec) gets a secret"
  }
  assert {
    condition     = [for v in aws_ecs_task_definition.this.volume : v.name] == ["vault-fetch-relay"]
    error_message = "one task volume shared by the two containers"
  }
  assert {
    condition     = output.relay_mode == "exec"
    error_message = "exec decides the mode in the task"
  }
  assert {
    condition     = output.init_container_policy_json == null
    error_message = "no init container policy without init_container"
  }
  assert {
    condition = jsondecode(output.relay_exec_policy_json) == {
      Version = "2012-10-17"
      Statement = [{
        Sid      = "ReadWorkosApiKey"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:backend-AbCdEf"]
      }]
    }
    error_message = "the execution role may read the API key's secret (without the JSON-key suffix) and nothing else"
  }
}

run "exec_from_relay_image" {
  command = plan

  variables {
    relay_image = "relay-with-exec:test"
    run_as_user = "10001:10001"
    relay_exec = {
      workos_api_key_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/backend/workos-api-key"
      kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      strict             = true
      verify_upstream    = true
    }
  }

  assert {
    condition     = [for c in jsondecode(aws_ecs_task_definition.this.container_definitions) : c.name] == ["sentry-relay", "backend"]
    error_message = "no install container without install_image"
  }
  assert {
    condition = {
      for k, v in jsondecode(aws_ecs_task_definition.this.container_definitions)[0] : k => v
      if contains(["image", "entryPoint", "command", "secrets"], k)
      } == {
      image      = "relay-with-exec:test"
      entryPoint = ["/bin/vault-fetch-relay", "exec", "--", "/bin/relay"]
      command    = ["run"]
      secrets    = [{ name = "WORKOS_API_KEY", valueFrom = "arn:aws:ssm:us-east-1:123456789012:parameter/backend/workos-api-key" }]
    }
    error_message = "relay_image's own /bin/vault-fetch-relay supervises relay"
  }
  assert {
    condition     = [for k in ["user", "mountPoints", "dependsOn"] : k if length(lookup(jsondecode(aws_ecs_task_definition.this.container_definitions)[0], k, [])) > 0] == []
    error_message = "no volume, no dependency and the image's own user without the install container"
  }
  assert {
    condition     = length(aws_ecs_task_definition.this.volume) == 0
    error_message = "no task volume without the install container"
  }
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name => e.value }["VAULT_FETCH_STRICT"] == "true"
    error_message = "strict reaches exec"
  }
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name => e.value }["VAULT_FETCH_VERIFY_UPSTREAM"] == "true"
    error_message = "verify_upstream reaches exec"
  }
  assert {
    condition = jsondecode(output.relay_exec_policy_json).Statement == [
      { Sid = "ReadWorkosApiKey", Effect = "Allow", Action = ["ssm:GetParameters"], Resource = ["arn:aws:ssm:us-east-1:123456789012:parameter/backend/workos-api-key"] },
      { Sid = "DecryptWorkosApiKey", Effect = "Allow", Action = ["kms:Decrypt"], Resource = ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"] },
    ]
    error_message = "SSM parameter read plus decrypt with the given key only"
  }
}

run "exec_and_init_container_exclude_each_other" {
  command = plan

  variables {
    relay_exec = {
      workos_api_key_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/k"
      install_image      = "vault-fetch-relay:test"
    }
    init_container = {
      image              = "vault-fetch-relay:test"
      workos_api_key_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/k"
    }
  }

  expect_failures = [aws_ecs_task_definition.this]
}

run "exec_needs_an_execution_role" {
  command = plan

  variables {
    execution_role_arn = null
    relay_exec = {
      workos_api_key_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/k"
    }
  }

  expect_failures = [aws_ecs_task_definition.this]
}

run "exec_excludes_passed_credentials" {
  command = plan

  variables {
    relay_credentials_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:relay-AbCdEf"
    relay_exec = {
      workos_api_key_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/k"
    }
  }

  expect_failures = [aws_ecs_task_definition.this]
}

run "exec_refuses_a_bad_arn" {
  command = plan

  variables {
    relay_exec = {
      workos_api_key_arn = "sk_live_not_an_arn"
    }
  }

  expect_failures = [var.relay_exec]
}
