# The Secrets Manager example with the vault read replaced by fixed results (override_data) and AWS mocked.

mock_provider "aws" {
  # Mocked computed values are known at plan time: no apply (and no destroy) needed.
  override_during = plan

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/runlayer-relay-exec"
    }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:runlayer/sentry-relay-credentials-AbCdEf"
    }
  }
  mock_resource "aws_secretsmanager_secret_version" {
    defaults = {
      arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:runlayer/sentry-relay-credentials-AbCdEf"
    }
  }
}

run "found_goes_through_secrets_manager" {
  command = plan

  override_data {
    target = module.relay_credentials.data.external.relay
    values = {
      result = {
        public_key     = "pk-1", secret_key = "sk-1", relay_id = "id-1", sentry_dsn = ""
        status         = "found", reason = "", version_id = "v1", updated_at = "2025-03-11T02:18:54.250931Z"
        version_number = "1741659534250931"
      }
    }
  }

  assert {
    condition     = output.relay_mode == "managed" && length(module.relay_secret) == 1
    error_message = "found: one secret, managed mode"
  }
  assert {
    condition     = module.relay_secret[0].secret_version == 1741659534250931
    error_message = "secret_string_wo_version is the vault's version_number"
  }
  assert {
    condition     = [for s in jsondecode(module.task_definition.container_definitions)[0].secrets : s.valueFrom] == ["${output.relay_secret_arn}:relay_id::", "${output.relay_secret_arn}:public_key::", "${output.relay_secret_arn}:secret_key::"]
    error_message = "relay reads the credentials from the secret by reference"
  }
  assert {
    condition     = !strcontains(module.task_definition.container_definitions, "sk-1") && !strcontains(module.task_definition.container_definitions, "pk-1")
    error_message = "no credential value in the task definition"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.read_relay_secret[0].policy).Statement[*].Resource == [[module.relay_secret[0].secret_arn]]
    error_message = "the execution role may read the one relay secret"
  }
}

run "not_found_writes_no_secret" {
  command = plan

  override_data {
    target = module.relay_credentials.data.external.relay
    values = {
      result = {
        public_key = "", secret_key = "", relay_id = "", sentry_dsn = "", status = "unauthorized"
        reason     = "the key was refused", version_id = "", updated_at = "", version_number = ""
      }
    }
  }

  assert {
    condition     = output.relay_mode == "proxy" && length(module.relay_secret) == 0 && length(aws_iam_role_policy.read_relay_secret) == 0
    error_message = "no secret, no policy, proxy mode"
  }

  expect_failures = [check.relay_credentials_found]
}
