variable "name" {
  description = "Name of the Secrets Manager secret."
  type        = string
  default     = "sentry-relay-credentials"
}

variable "credentials" {
  description = "Relay credentials, written with the write-only secret_string_wo so they stay out of this module's state."
  type = object({
    relay_id   = string
    public_key = string
    secret_key = string
  })
  sensitive = true
  ephemeral = true
}

variable "secret_version" {
  description = "Non-secret integer that must increase whenever the credentials change (secret_string_wo_version): Terraform cannot diff a write-only value."
  type        = number
  nullable    = false

  validation {
    condition     = var.secret_version >= 1 && floor(var.secret_version) == var.secret_version
    error_message = "secret_version must be a positive integer."
  }
}

variable "kms_key_id" {
  description = "KMS key ARN for the secret (an ARN, since it also goes into the read policy). Null: the AWS managed key aws/secretsmanager."
  type        = string
  default     = null
}

variable "recovery_window_in_days" {
  description = "Days a destroyed secret stays scheduled for deletion, its name taken (7 to 30), or 0: deleted at once, so destroy then apply works again. 0 by default: the secret is a copy of WorkOS Vault, which the next apply writes again."
  type        = number
  default     = 0
}

variable "tags" {
  description = "Tags for the secret."
  type        = map(string)
  default     = {}
}
