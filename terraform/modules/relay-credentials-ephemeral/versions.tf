terraform {
  # Ephemeral resources and ephemeral outputs need Terraform >= 1.10; write-only arguments fed from them >= 1.11.
  required_version = ">= 1.11"

  required_providers {
    external = {
      source  = "hashicorp/external"
      version = ">= 2.3, < 3.0"
    }
    # ephemeral "local_command" arrived in hashicorp/local 2.7.0.
    local = {
      source  = "hashicorp/local"
      version = ">= 2.7.0, < 3.0"
    }
  }
}
