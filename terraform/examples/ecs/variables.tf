variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "workos_api_key" {
  description = "WorkOS API key (the backend's AUTH_API_KEY). Null: vault-fetch-relay reads WORKOS_API_KEY from the environment."
  type        = string
  sensitive   = true
  default     = null
}

variable "workos_api_base" {
  description = "WorkOS API base URL."
  type        = string
  default     = "https://api.workos.com"
}

variable "vault_secret_name" {
  description = "WorkOS Vault object holding the relay credentials."
  type        = string
  default     = "runlayer-sentry-credentials"
}

variable "vault_fetch_relay_program" {
  description = "Path or name of the vault-fetch-relay binary on the machine that runs terraform."
  type        = string
  default     = "vault-fetch-relay"
}

variable "strict" {
  description = "Fail the plan when credentials are not found instead of deploying relay in proxy mode."
  type        = bool
  default     = false
}

variable "family" {
  description = "ECS task definition family."
  type        = string
  default     = "runlayer-relay"
}

variable "relay_image" {
  description = "Sentry Relay image."
  type        = string
  default     = "getsentry/relay:latest"
}

variable "relay_upstream_url" {
  description = "Upstream Sentry URL (no path)."
  type        = string
  default     = "https://sentry.io/"
}

variable "backend_image" {
  description = "Backend image."
  type        = string
  default     = "ghcr.io/example/backend:latest"
}

variable "backend_environment" {
  description = "Other plain environment variables for the backend."
  type        = map(string)
  default     = {}
}

variable "sentry_dsn" {
  description = "Per-environment override of the backend's SENTRY_DSN. Empty or null: use the DSN stored in the vault, if any."
  type        = string
  default     = null
}

variable "execution_role_arn" {
  description = "ECS task execution role (needed for awslogs)."
  type        = string
  default     = null
}

variable "log_group_name" {
  description = "CloudWatch log group for the containers. Null: no log configuration."
  type        = string
  default     = null
}

variable "deployment_event" {
  description = "Report every apply to Sentry as a deployment (vault-fetch-relay deployment-event, after the task definition): customer id, infrastructure version, environment. Never fails the apply (a warning line when Sentry cannot be told). Null: no event. Sent only when a DSN is known (var.sentry_dsn or the vault's)."
  type = object({
    customer_id   = string
    infra_version = string
    environment   = optional(string, "production")
  })
  default = null
}
