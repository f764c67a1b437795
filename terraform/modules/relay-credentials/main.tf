# Runs `vault-fetch-relay` (Terraform mode) at every plan and apply.
# Its whole result, credentials included, is stored in clear text in the state: protect the state backend.
data "external" "relay" {
  program = [var.program]

  # Every value must be a string; null entries (no api_key) are dropped by the provider,
  # and the program then falls back to WORKOS_API_KEY in Terraform's environment.
  query = {
    api_key         = var.workos_api_key
    secret_name     = var.secret_name
    api_base        = var.api_base
    strict          = tostring(var.strict)
    timeout_seconds = tostring(var.timeout_seconds)
  }
}

locals {
  result = data.external.relay.result

  # lookup() keeps the module usable with the original script, which printed only the four credential keys.
  status = lookup(local.result, "status", lookup(local.result, "public_key", "") != "" ? "found" : "not_found")
  reason = lookup(local.result, "reason", "")
  found  = local.status == "found"
}

# A check block warns at plan time; it never fails the run (set strict = true for that). A root that declares its
# own check on `found` turns this one off (check_found = false): terraform test can only expect a root's checks.
check "relay_credentials_found" {
  assert {
    condition     = !var.check_found || local.found
    error_message = "Sentry Relay credentials were not loaded from WorkOS Vault secret \"${var.secret_name}\": status ${local.status}: ${local.reason}. Relay gets no credentials: run it in proxy mode."
  }
}
