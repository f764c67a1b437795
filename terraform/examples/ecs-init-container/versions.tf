terraform {
  required_version = ">= 1.5"

  # Only hashicorp/aws: Terraform never runs vault-fetch-relay here, the task does at every start.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.88, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region
}
