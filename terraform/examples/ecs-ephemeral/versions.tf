terraform {
  # Ephemeral resources feeding a write-only argument (secret_string_wo): Terraform >= 1.11, hashicorp/aws >= 5.88,
  # hashicorp/local >= 2.7.0.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.88, < 6.0"
    }
    external = {
      source  = "hashicorp/external"
      version = ">= 2.3, < 3.0"
    }
    local = {
      source  = "hashicorp/local"
      version = ">= 2.7.0, < 3.0"
    }
  }
}

provider "aws" {
  region = var.region
}
