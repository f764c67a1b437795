# terraform test with a mocked AWS provider: the planned container definitions, decoded (plan only: every value
# asserted here is known at plan time). Driven by
# tests/terraform_files.rs (cargo test), which supplies hashicorp/aws from a local plugin directory.

mock_provider "aws" {}

variables {
  backend_image = "backend"
}

run "proxy_without_credentials" {
  command = plan

  variables {
    family = "proxy"
  }

  assert {
    condition     = output.relay_mode == "proxy"
    error_message = "no credentials must mean proxy mode"
  }
  assert {
    condition     = one([for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.value if e.name == "RELAY_MODE"]) == "proxy"
    error_message = "RELAY_MODE must be proxy"
  }
  assert {
    condition     = length([for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e if startswith(e.name, "RELAY_ID") || strcontains(e.name, "_KEY")]) == 0
    error_message = "proxy mode must set no credential variable (relay exits on empty ones)"
  }
  assert {
    condition     = length(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets) == 0
    error_message = "proxy mode has no secrets"
  }
}

run "managed_from_plain_environment" {
  command = plan

  variables {
    family            = "managed"
    relay_credentials = { relay_id = "id-1", public_key = "pk-1", secret_key = "sk-1" }
  }

  assert {
    condition     = output.relay_mode == "managed"
    error_message = "credentials must mean managed mode"
  }
  assert {
    condition = { for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name => e.value if startswith(e.name, "RELAY_") && !contains(["RELAY_UPSTREAM_URL", "RELAY_HOST", "RELAY_PORT", "RELAY_LOG_LEVEL", "RELAY_LOG_FORMAT"], e.name) } == {
      RELAY_MODE       = "managed"
      RELAY_ID         = "id-1"
      RELAY_PUBLIC_KEY = "pk-1"
      RELAY_SECRET_KEY = "sk-1"
    }
    error_message = "managed mode passes the three credential variables"
  }
}

run "managed_from_secrets_manager" {
  command = plan

  variables {
    family                       = "secrets-manager"
    execution_role_arn           = "arn:aws:iam::123456789012:role/exec"
    relay_credentials_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:relay-AbCdEf"
  }

  assert {
    condition = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets == [
      { name = "RELAY_ID", valueFrom = "arn:aws:secretsmanager:us-east-1:123456789012:secret:relay-AbCdEf:relay_id::" },
      { name = "RELAY_PUBLIC_KEY", valueFrom = "arn:aws:secretsmanager:us-east-1:123456789012:secret:relay-AbCdEf:public_key::" },
      { name = "RELAY_SECRET_KEY", valueFrom = "arn:aws:secretsmanager:us-east-1:123456789012:secret:relay-AbCdEf:secret_key::" },
    ]
    error_message = "relay reads each credential from the secret's JSON key"
  }
  assert {
    condition     = one([for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.value if e.name == "RELAY_MODE"]) == "managed"
    error_message = "RELAY_MODE must be managed"
  }
  assert {
    condition     = length([for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e if contains(["RELAY_ID", "RELAY_PUBLIC_KEY", "RELAY_SECRET_KEY"], e.name)]) == 0
    error_message = "no credential is a plain variable"
  }
}

run "init_container" {
  command = plan

  variables {
    family             = "init"
    execution_role_arn = "arn:aws:iam::123456789012:role/exec"
    init_container = {
      image              = "vault-fetch-relay:test"
      workos_api_key_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:backend-AbCdEf:AUTH_API_KEY::"
      secret_name        = "relay-creds"
    }
  }

  assert {
    condition     = [for c in jsondecode(aws_ecs_task_definition.this.container_definitions) : c.name] == ["fetch-credentials", "sentry-relay", "backend"]
    error_message = "fetch-credentials comes first, then relay and the backend"
  }
  assert {
    condition = {
      for k, v in jsondecode(aws_ecs_task_definition.this.container_definitions)[0] : k => v
      if contains(["essential", "command", "user", "secrets", "mountPoints", "readonlyRootFilesystem"], k)
      } == {
      essential              = false
      command                = ["init", "--dir", "/relay"]
      user                   = "65532:65532"
      secrets                = [{ name = "WORKOS_API_KEY", valueFrom = "arn:aws:secretsmanager:us-east-1:123456789012:secret:backend-AbCdEf:AUTH_API_KEY::" }]
      mountPoints            = [{ sourceVolume = "relay-config", containerPath = "/relay", readOnly = false }]
      readonlyRootFilesystem = true
    }
    error_message = "fetch-credentials: non-essential, init --dir /relay, the relay uid, the API key by reference, the shared volume"
  }
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name => e.value }["WORKOS_VAULT_SECRET_NAME"] == "relay-creds"
    error_message = "the vault secret name reaches the fetch container"
  }
  assert {
    condition = {
      for k, v in jsondecode(aws_ecs_task_definition.this.container_definitions)[1] : k => v
      if contains(["command", "user", "mountPoints", "dependsOn", "secrets"], k)
      } == {
      command     = ["run", "--config", "/relay"]
      user        = "65532:65532"
      mountPoints = [{ sourceVolume = "relay-config", containerPath = "/relay", readOnly = true }]
      dependsOn   = [{ containerName = "fetch-credentials", condition = "SUCCESS" }]
      secrets     = []
    }
    error_message = "relay: run --config /relay as the same uid, after fetch-credentials succeeded, no secrets of its own"
  }
  assert {
    condition     = length([for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[1].environment : e if contains(["RELAY_MODE", "RELAY_ID", "RELAY_PUBLIC_KEY", "RELAY_SECRET_KEY"], e.name)]) == 0
    error_message = "config.yml decides the mode: no RELAY_MODE (it would override the file) and no credential variable"
  }
  assert {
    condition     = [for c in jsondecode(aws_ecs_task_definition.this.container_definitions) : c.name if length(lookup(c, "secrets", [])) > 0] == ["fetch-credentials"]
    error_message = "only fetch-credentials gets a secret"
  }
  assert {
    condition     = [for v in aws_ecs_task_definition.this.volume : v.name] == ["relay-config"]
    error_message = "one task volume shared by the two containers"
  }
  assert {
    condition     = output.relay_mode == "init-container"
    error_message = "the mode is decided at task start"
  }
  assert {
    condition = jsondecode(output.init_container_policy_json) == {
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

run "init_container_with_ssm_and_kms" {
  command = plan

  variables {
    family             = "init-ssm"
    execution_role_arn = "arn:aws:iam::123456789012:role/exec"
    run_as_user        = "10001:10001"
    init_container = {
      image              = "vault-fetch-relay:test"
      workos_api_key_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/backend/workos-api-key"
      kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      strict             = true
      verify_upstream    = true
    }
  }

  assert {
    condition = jsondecode(output.init_container_policy_json).Statement == [
      { Sid = "ReadWorkosApiKey", Effect = "Allow", Action = ["ssm:GetParameters"], Resource = ["arn:aws:ssm:us-east-1:123456789012:parameter/backend/workos-api-key"] },
      { Sid = "DecryptWorkosApiKey", Effect = "Allow", Action = ["kms:Decrypt"], Resource = ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"] },
    ]
    error_message = "SSM parameter read plus decrypt with the given key only"
  }
  assert {
    condition     = [for c in jsondecode(aws_ecs_task_definition.this.container_definitions) : c.user if contains(["fetch-credentials", "sentry-relay"], c.name)] == ["10001:10001", "10001:10001"]
    error_message = "both containers run as run_as_user"
  }
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name => e.value }["VAULT_FETCH_STRICT"] == "true"
    error_message = "strict reaches the fetch container"
  }
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name => e.value }["VAULT_FETCH_VERIFY_UPSTREAM"] == "true"
    error_message = "verify_upstream reaches the fetch container"
  }
}

run "init_container_refuses_a_bad_arn" {
  command = plan

  variables {
    execution_role_arn = "arn:aws:iam::123456789012:role/exec"
    init_container = {
      image              = "vault-fetch-relay:test"
      workos_api_key_arn = "sk_live_not_an_arn"
    }
  }

  expect_failures = [var.init_container]
}

run "init_container_excludes_passed_credentials" {
  command = plan

  variables {
    execution_role_arn           = "arn:aws:iam::123456789012:role/exec"
    relay_credentials_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:relay-AbCdEf"
    init_container = {
      image              = "vault-fetch-relay:test"
      workos_api_key_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/k"
    }
  }

  expect_failures = [aws_ecs_task_definition.this]
}
