# The module's contract with data "external" replaced by fixed results (override_data): the query it sends and
# the outputs it derives. tests/terraform_mode.rs drives the real program the same way Terraform does.

run "found" {
  command = plan

  override_data {
    target = data.external.relay
    values = {
      result = {
        public_key     = "pk", secret_key = "sk", relay_id = "id", sentry_dsn = "dsn"
        status         = "found", reason = "", version_id = "v1", updated_at = "2025-03-11T02:18:54.250931Z"
        version_number = "1741659534250931"
      }
    }
  }

  assert {
    condition = tomap({ for k, v in data.external.relay.query : k => v if v != null }) == tomap({
      secret_name     = "runlayer-sentry-credentials"
      api_base        = "https://api.workos.com"
      strict          = "false"
      timeout_seconds = "30"
    })
    error_message = "the default query"
  }
  assert {
    condition     = data.external.relay.query.api_key == null
    error_message = "no api_key by default: the provider drops the null entry and the program reads WORKOS_API_KEY"
  }
  assert {
    condition     = data.external.relay.program == tolist(["vault-fetch-relay"])
    error_message = "the program is looked up in PATH by default"
  }
  assert {
    condition     = output.found && output.status == "found" && output.reason == ""
    error_message = "found"
  }
  assert {
    condition     = output.credentials == { relay_id = "id", public_key = "pk", secret_key = "sk", sentry_dsn = "dsn" }
    error_message = "the credentials output carries the four values"
  }
  assert {
    condition     = output.version_number == 1741659534250931 && output.version_id == "v1"
    error_message = "the version outputs"
  }
}

run "not_found_warns" {
  command = plan

  variables {
    workos_api_key = "sk_test_x"
    strict         = true
  }

  override_data {
    target = data.external.relay
    values = {
      result = {
        public_key = "", secret_key = "", relay_id = "", sentry_dsn = "", status = "not_found"
        reason     = "secret does not exist", version_id = "", updated_at = "", version_number = ""
      }
    }
  }

  assert {
    condition     = data.external.relay.query.api_key == "sk_test_x" && data.external.relay.query.strict == "true"
    error_message = "api_key and strict reach the query"
  }
  assert {
    condition     = !output.found && output.status == "not_found" && output.version_number == null
    error_message = "not found"
  }

  expect_failures = [check.relay_credentials_found]
}

run "original_script_result" {
  command = plan

  # The original script printed only the four credential keys.
  override_data {
    target = data.external.relay
    values = {
      result = { public_key = "pk", secret_key = "sk", relay_id = "id", sentry_dsn = "" }
    }
  }

  assert {
    condition     = output.found && output.status == "found" && output.version_number == null
    error_message = "a non-empty public_key means found"
  }
}
