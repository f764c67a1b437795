variable "family" {
  description = "ECS task definition family."
  type        = string
  default     = "sentry-relay"
}

variable "cpu" {
  description = "Task CPU units (Fargate)."
  type        = number
  default     = 512
}

variable "memory" {
  description = "Task memory in MiB (Fargate)."
  type        = number
  default     = 1024
}

variable "execution_role_arn" {
  description = "Task execution role. Required when credentials come from Secrets Manager or logs go to CloudWatch."
  type        = string
  default     = null
}

variable "task_role_arn" {
  description = "IAM role the containers run as."
  type        = string
  default     = null
}

variable "relay_image" {
  description = "Sentry Relay image."
  type        = string
  default     = "getsentry/relay:latest"
}

variable "relay_upstream_url" {
  description = "Upstream Sentry URL relay forwards to (no path)."
  type        = string
  default     = "https://sentry.io/"
}

variable "relay_port" {
  description = "Port relay listens on."
  type        = number
  default     = 3000
}

variable "relay_log_level" {
  description = "RELAY_LOG_LEVEL."
  type        = string
  default     = "info"
}

variable "relay_log_format" {
  description = "RELAY_LOG_FORMAT."
  type        = string
  default     = "json"
}

variable "relay_credentials" {
  description = "Relay credentials passed as RELAY_ID / RELAY_PUBLIC_KEY / RELAY_SECRET_KEY environment variables (they are visible in the task definition). Null: relay runs in proxy mode with no credential variables."
  type = object({
    relay_id   = string
    public_key = string
    secret_key = string
  })
  sensitive = true
  default   = null
}

variable "relay_credentials_secret_arn" {
  description = "Secrets Manager secret holding JSON {relay_id, public_key, secret_key} (what modules/relay-secret writes); injected with the ECS secrets JSON-key syntax \"<arn>:<key>::\". Takes precedence over relay_credentials."
  type        = string
  default     = null
}

variable "backend_name" {
  description = "Name of the backend container."
  type        = string
  default     = "backend"
}

variable "backend_image" {
  description = "Backend image."
  type        = string
}

variable "backend_port" {
  description = "Port the backend listens on."
  type        = number
  default     = 8000
}

variable "backend_environment" {
  description = "Plain environment variables for the backend (SENTRY_DSN goes here)."
  type        = map(string)
  default     = {}
}

variable "backend_secrets" {
  description = "Backend environment variables read from Secrets Manager or SSM: NAME => valueFrom."
  type        = map(string)
  default     = {}
}

variable "log_group_name" {
  description = "CloudWatch log group for both containers (awslogs driver). Null: no log configuration."
  type        = string
  default     = null
}

variable "log_region" {
  description = "Region of log_group_name."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for the task definition."
  type        = map(string)
  default     = {}
}
