# The deployment event of every apply, as anysource-infra's deployment-telemetry.tf sends it, with no script:
# `vault-fetch-relay deployment-event` after the task definition is in place. The DSN is the one this example
# already resolved (var.sentry_dsn, else the vault's), handed over in the environment (never argv), so the
# program reads nothing from the vault. The start is the plan's time. Non-fatal: the program exits 0 when
# Sentry cannot be told (one warning line in the apply's output), and on_failure = continue keeps a usage
# error from failing the apply too.
locals {
  deployment_event_enabled = var.deployment_event != null && nonsensitive(local.sentry_dsn != "")
}

resource "terraform_data" "deployment_event" {
  count = local.deployment_event_enabled ? 1 : 0

  # A new plan time at every plan: replaced, so the provisioner runs, at every apply (never at plan).
  triggers_replace = plantimestamp()

  provisioner "local-exec" {
    # No shell: the program is the interpreter, the last argument the command.
    interpreter = [
      var.vault_fetch_relay_program, "deployment-event",
      "--deployment-type", "ecs",
      "--customer-id", var.deployment_event.customer_id,
      "--infra-version", var.deployment_event.infra_version,
      "--started-at", plantimestamp(),
      "--status",
    ]
    command = "success"
    environment = {
      SENTRY_DSN  = local.sentry_dsn
      ENVIRONMENT = var.deployment_event.environment
    }
    on_failure = continue
  }

  depends_on = [module.task_definition]
}
