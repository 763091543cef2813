# The prod environment: `terraform init && terraform apply` here (docs/deploy.md). State
# lives in S3, locked there, encrypted.

terraform {
  required_version = ">= 1.10"
  backend "s3" {
    bucket       = "retail-terraform-state"
    key          = "prod/terraform.tfstate"
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
      environment = "prod"
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
  environment                = "prod"
  vpc_cidr                   = "10.30.0.0/16"
  availability_zones         = ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
  api_allowed_cidrs          = var.api_allowed_cidrs
  node_instance_types        = ["m6i.xlarge"]
  node_count                 = { min = 3, desired = 6, max = 12 }
  kafka_broker_instance_type = "kafka.m7g.large"
  database_instance_class    = "db.m7g.large"
  multi_az                   = true
  deletion_protection        = true
  rotation_lambda_arn        = var.rotation_lambda_arn
}

output "platform" {
  description = "The values the chart's values-prod.yaml takes (aws.*, kafka.bootstrapServers)."
  value       = module.platform
}
