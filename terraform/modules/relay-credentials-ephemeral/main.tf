locals {
  query = {
    secret_name     = var.secret_name
    api_base        = var.api_base
    strict          = tostring(var.strict)
    timeout_seconds = tostring(var.timeout_seconds)
  }
}

# Read 1, stored in the state: the outcome only (status, version_id, updated_at, version_number, reason), never a
# credential value. Terraform must know at plan time whether credentials exist (count, managed or proxy mode) and
# when they change (secret_string_wo_version); ephemeral values are refused in both places.
data "external" "outcome" {
  program = [var.program]
  query   = merge(local.query, { outcome_only = "true" })
}

# Read 2, never stored: the credentials, same program, same query, same result object as data "external".
# Runs at plan and again at apply (two vault reads per apply).
ephemeral "local_command" "credentials" {
  command = var.program
  stdin   = jsonencode(local.query)
}

locals {
  outcome = data.external.outcome.result
  status  = local.outcome.status
  found   = local.status == "found"

  # stdout is null when the program printed nothing (only on a failure, which is an error anyway); the fallback
  # keeps the same keys so consumers' references stay valid.
  result = jsondecode(coalesce(ephemeral.local_command.credentials.stdout, jsonencode({
    relay_id = "", public_key = "", secret_key = "", sentry_dsn = "", status = "unavailable"
  })))
}

# A check block warns at plan time; it never fails the run (set strict = true for that). A root that declares its
# own check on `found` turns this one off (check_found = false): terraform test can only expect a root's checks.
check "relay_credentials_found" {
  assert {
    condition     = !var.check_found || local.found
    error_message = "Sentry Relay credentials were not loaded from WorkOS Vault secret \"${var.secret_name}\": status ${local.status}: ${local.outcome.reason}. Relay gets no credentials: run it in proxy mode."
  }
}

# Both reads must agree: a vault change between them (or a different environment) would otherwise write empty
# credentials while the plan said found.
check "relay_credentials_reads_agree" {
  assert {
    condition     = local.result.status == local.status
    error_message = "The two vault reads disagree (the outcome read said ${local.status}): the vault secret changed during the run, or Terraform's environment differs between the two providers. Run terraform apply again."
  }
}
