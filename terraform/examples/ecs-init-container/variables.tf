variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "workos_api_key_arn" {
  description = "ARN of the WorkOS API key: a Secrets Manager secret (optionally \"<arn>:<json-key>::\") or an SSM Parameter Store parameter. Only the fetch-credentials container receives it."
  type        = string
}

variable "workos_api_key_kms_key_arn" {
  description = "Customer managed KMS key that encrypts the API key secret or parameter. Null: an AWS managed key."
  type        = string
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

variable "vault_fetch_relay_image" {
  description = "The vault-fetch-relay image (runs `init --dir /relay`)."
  type        = string
  default     = "ghcr.io/OWNER/vault-fetch-relay:0.1.0"
}

variable "strict" {
  description = "When true, a task whose credentials cannot be fetched does not start relay at all (see README)."
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
  description = "Plain environment variables for the backend (SENTRY_DSN goes here)."
  type        = map(string)
  default     = {}
}

variable "log_group_name" {
  description = "CloudWatch log group for the containers. Null: no log configuration."
  type        = string
  default     = null
}
