# The example with a mocked AWS provider but the real hashicorp/external and hashicorp/local running
# vault-fetch-relay against its dev server. tests/terraform_files.rs starts the server and sets
# TF_VAR_workos_api_base, TF_VAR_vault_fetch_relay_program, WORKOS_API_KEY and TF_VAR_credential_values (the seeded
# relay id, public key and secret key, which must appear nowhere in what Terraform keeps or registers).

mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/runlayer-relay-exec"
    }
  }
  mock_resource "aws_secretsmanager_secret_version" {
    defaults = {
      arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:runlayer/sentry-relay-credentials-AbCdEf"
    }
  }
}

run "found_goes_through_secrets_manager" {
  command = apply

  assert {
    condition     = output.relay_credentials_status == "found" && output.relay_mode == "managed"
    error_message = "found must mean managed mode"
  }
  assert {
    condition     = length(module.relay_secret) == 1
    error_message = "one Secrets Manager secret when found"
  }
  assert {
    condition     = module.relay_secret[0].secret_version == module.relay_credentials.version_number && module.relay_credentials.version_number > 1700000000000000
    error_message = "secret_string_wo_version follows the vault version (updated_at in microseconds)"
  }
  assert {
    condition = [for s in jsondecode(module.task_definition.container_definitions)[0].secrets : s.valueFrom] == [
      "${output.relay_secret_arn}:relay_id::",
      "${output.relay_secret_arn}:public_key::",
      "${output.relay_secret_arn}:secret_key::",
    ]
    error_message = "relay reads each credential from the secret by reference"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.read_relay_secret[0].policy).Statement[*].Resource == [[module.relay_secret[0].secret_arn]]
    error_message = "the execution role may read the one relay secret and nothing else"
  }
  assert {
    condition     = length(var.credential_values) == 3 && alltrue([for v in var.credential_values : !strcontains(module.task_definition.container_definitions, v)])
    error_message = "no credential value in the task definition"
  }
}

run "not_found_runs_relay_in_proxy_mode" {
  command = apply

  variables {
    vault_secret_name = "no-such-secret"
  }

  # The plan-time warning: a failed check block (a warning outside terraform test).
  expect_failures = [check.relay_credentials_found]

  assert {
    condition     = output.relay_credentials_status == "not_found" && output.relay_mode == "proxy"
    error_message = "not found must mean proxy mode"
  }
  assert {
    condition     = length(module.relay_secret) == 0 && output.relay_secret_arn == null
    error_message = "no secret when not found"
  }
  assert {
    condition     = length(jsondecode(module.task_definition.container_definitions)[0].secrets) == 0
    error_message = "no secret references in proxy mode"
  }
}
