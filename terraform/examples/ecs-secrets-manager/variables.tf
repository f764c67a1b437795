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


variable "log_group_name" {
  description = "CloudWatch log group for the containers. Null: no log configuration."
  type        = string
  default     = null
}

variable "secret_name" {
  description = "Name of the Secrets Manager secret that receives the relay credentials."
  type        = string
  default     = "runlayer/sentry-relay-credentials"
}

variable "secret_kms_key_arn" {
  description = "KMS key ARN for the secret. Null: aws/secretsmanager."
  type        = string
  default     = null
}

variable "secret_version" {
  description = "Override for secret_string_wo_version. Null: the vault's version_number (updated_at in microseconds since 1970)."
  type        = number
  default     = null
}

variable "secret_recovery_window_in_days" {
  description = "Days a destroyed Secrets Manager secret stays recoverable, its name taken: an apply after a destroy fails until then (\"already scheduled for deletion\"). 0: deleted at once; the next apply copies the vault again."
  type        = number
  default     = 0
}
