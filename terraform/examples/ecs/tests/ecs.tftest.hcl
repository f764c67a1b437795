# The plain-environment example with the vault read replaced by fixed results (override_data) and AWS mocked.

mock_provider "aws" {}

run "found_sets_managed_credentials" {
  command = plan

  override_data {
    target = module.relay_credentials.data.external.relay
    values = {
      result = {
        public_key     = "pk-1", secret_key = "sk-1", relay_id = "id-1", sentry_dsn = "https://k@o1.ingest.sentry.io/2"
        status         = "found", reason = "", version_id = "v1", updated_at = "2025-03-11T02:18:54.250931Z"
        version_number = "1741659534250931"
      }
    }
  }

  assert {
    condition     = output.relay_mode == "managed"
    error_message = "found must mean managed mode"
  }
  assert {
    condition     = { for e in jsondecode(module.task_definition.container_definitions)[0].environment : e.name => e.value if contains(["RELAY_MODE", "RELAY_ID", "RELAY_PUBLIC_KEY", "RELAY_SECRET_KEY"], e.name) } == { RELAY_MODE = "managed", RELAY_ID = "id-1", RELAY_PUBLIC_KEY = "pk-1", RELAY_SECRET_KEY = "sk-1" }
    error_message = "this path puts the credentials in the task definition's environment (its README says so)"
  }
  assert {
    condition     = { for e in jsondecode(module.task_definition.container_definitions)[1].environment : e.name => e.value }["SENTRY_DSN"] == "https://k@o1.ingest.sentry.io/2"
    error_message = "the vault's DSN reaches the backend"
  }
}

run "not_found_runs_proxy_without_credential_variables" {
  command = plan

  override_data {
    target = module.relay_credentials.data.external.relay
    values = {
      result = {
        public_key = "", secret_key = "", relay_id = "", sentry_dsn = "", status = "not_found"
        reason     = "no such secret", version_id = "", updated_at = "", version_number = ""
      }
    }
  }

  expect_failures = [check.relay_credentials_found]

  assert {
    condition     = output.relay_mode == "proxy" && output.relay_credentials_status == "not_found"
    error_message = "not found must mean proxy mode"
  }
  assert {
    condition     = [for e in jsondecode(module.task_definition.container_definitions)[0].environment : e.name if startswith(e.name, "RELAY_") && contains(["RELAY_ID", "RELAY_PUBLIC_KEY", "RELAY_SECRET_KEY"], e.name)] == []
    error_message = "never empty credential variables (relay exits on them)"
  }
  assert {
    condition     = !contains([for e in jsondecode(module.task_definition.container_definitions)[1].environment : e.name], "SENTRY_DSN")
    error_message = "no empty SENTRY_DSN"
  }
}

run "deployment_event_runs_at_apply_when_a_dsn_is_known" {
  command = plan

  variables {
    deployment_event = { customer_id = "acme \"corp\"", infra_version = "2.1.0" }
  }

  override_data {
    target = module.relay_credentials.data.external.relay
    values = {
      result = {
        public_key     = "pk-1", secret_key = "sk-1", relay_id = "id-1", sentry_dsn = "https://k@o1.ingest.sentry.io/2"
        status         = "found", reason = "", version_id = "v1", updated_at = "2025-03-11T02:18:54.250931Z"
        version_number = "1741659534250931"
      }
    }
  }

  assert {
    condition     = output.deployment_event_enabled && length(terraform_data.deployment_event) == 1
    error_message = "a configured deployment event with the vault's DSN runs at apply"
  }
}

run "no_dsn_means_no_deployment_event" {
  command = plan

  variables {
    deployment_event = { customer_id = "acme", infra_version = "2.1.0" }
  }

  override_data {
    target = module.relay_credentials.data.external.relay
    values = {
      result = {
        public_key = "", secret_key = "", relay_id = "", sentry_dsn = "", status = "not_found"
        reason     = "no such secret", version_id = "", updated_at = "", version_number = ""
      }
    }
  }

  expect_failures = [check.relay_credentials_found]

  assert {
    condition     = !output.deployment_event_enabled && length(terraform_data.deployment_event) == 0
    error_message = "no DSN anywhere: no event (the script's telemetry did the same)"
  }
}

run "no_deployment_event_unless_asked" {
  command = plan

  override_data {
    target = module.relay_credentials.data.external.relay
    values = {
      result = {
        public_key     = "pk-1", secret_key = "sk-1", relay_id = "id-1", sentry_dsn = "https://k@o1.ingest.sentry.io/2"
        status         = "found", reason = "", version_id = "v1", updated_at = "2025-03-11T02:18:54.250931Z"
        version_number = "1741659534250931"
      }
    }
  }

  assert {
    condition     = length(terraform_data.deployment_event) == 0
    error_message = "deployment_event = null: no event"
  }
}
