# No API key variable, on purpose: the outcome read below is a data source, and a data source's query is stored in
# the state. Both reads take the key from Terraform's environment (WORKOS_API_KEY or WORKOS_API_KEY_FILE), which the
# external and local providers pass to the program, so the key never reaches the state either.

variable "secret_name" {
  description = "Name of the WorkOS Vault object that holds the relay credentials."
  type        = string
  default     = "runlayer-sentry-credentials"
  nullable    = false
}

variable "api_base" {
  description = "WorkOS API base URL (point it at `vault-fetch-relay dev-server` for local tests)."
  type        = string
  default     = "https://api.workos.com"
  nullable    = false
}

variable "strict" {
  description = "When true, any status other than `found` fails the plan (the program exits 1 and Terraform shows its one-line reason) instead of deploying relay in proxy mode."
  type        = bool
  default     = false
  nullable    = false
}

variable "timeout_seconds" {
  description = "Upper bound for each fetch, retries included. Neither provider has a timeout of its own."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.timeout_seconds > 0
    error_message = "timeout_seconds must be greater than 0."
  }
}

variable "program" {
  description = "Path or name (looked up in PATH) of the vault-fetch-relay binary."
  type        = string
  default     = "vault-fetch-relay"
  nullable    = false
}

variable "check_found" {
  description = "Warn at plan time (a failed check block, not an error) when credentials were not found. Set false when the calling root has its own check on the found output."
  type        = bool
  default     = true
  nullable    = false
}
