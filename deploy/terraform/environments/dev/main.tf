# The dev environment: `terraform init && terraform apply` here (docs/deploy.md). State
# lives in S3, locked there, encrypted.

terraform {
  required_version = ">= 1.10"
  backend "s3" {
    bucket       = "retail-terraform-state"
    key          = "dev/terraform.tfstate"
    region       = "eu-central-1"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = "eu-central-1"
  default_tags {
    tags = {
      project     = "retail"
      environment = "dev"
      managed-by  = "terraform"
    }
  }
}

variable "api_allowed_cidrs" {
  description = "Who may reach the Kubernetes API from outside the VPC (CI, operators)."
  type        = list(string)
  default     = []
}

variable "rotation_lambda_arn" {
  description = "The function that rotates the services' secrets nightly."
  type        = string
  default     = ""
}

module "platform" {
  source                     = "../../modules/platform"
  environment                = "dev"
  vpc_cidr                   = "10.10.0.0/16"
  availability_zones         = ["eu-central-1a", "eu-central-1b"]
  api_allowed_cidrs          = var.api_allowed_cidrs
  node_instance_types        = ["t3.large"]
  node_count                 = { min = 2, desired = 2, max = 4 }
  kafka_broker_instance_type = "kafka.t3.small"
  database_instance_class    = "db.t4g.micro"
  # Throwaway data: one zone per database and no deletion protection, so that dev can be torn
  # down and rebuilt (checkov's CKV_AWS_157 and CKV_AWS_293 say so; staging and prod pass).
  multi_az                   = false
  deletion_protection        = false
  rotation_lambda_arn        = var.rotation_lambda_arn
}

output "platform" {
  description = "The values the chart's values-dev.yaml takes (aws.*, kafka.bootstrapServers)."
  value       = module.platform
}
