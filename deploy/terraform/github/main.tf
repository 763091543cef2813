# The repository's deployment environments and their protection rules, as code: the gates
# .github/workflows/release.yml deploys through. Payment and Order each have an environment of
# their own that a reviewer must approve; the other services share `production`.
# Apply with a token that may administer the repository (GITHUB_TOKEN in the environment).

terraform {
  required_version = ">= 1.6"
  required_providers {
    github = {
      source  = "integrations/github"
      version = "~> 6.0"
    }
  }
  backend "s3" {
    bucket       = "retail-terraform-state"
    key          = "github/terraform.tfstate"
    region       = "eu-central-1"
    encrypt      = true
    use_lockfile = true
  }
}

provider "github" {
  owner = var.owner
}

variable "owner" {
  description = "The GitHub organisation that owns the repository."
  type        = string
  default     = "retail-platform"
}

variable "repository" {
  description = "The repository's name."
  type        = string
  default     = "retail"
}

variable "release_managers" {
  description = "The team whose members approve production deploys of Payment and Order."
  type        = string
  default     = "release-managers"
}

data "github_team" "release_managers" {
  slug = var.release_managers
}

# Only tags and main may deploy anywhere.
resource "github_repository_environment" "staging" {
  repository  = var.repository
  environment = "staging"
  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }
}

resource "github_repository_environment" "production" {
  repository  = var.repository
  environment = "production"
  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }
}

# Money and orders: a person approves, and not the one who pushed the tag.
resource "github_repository_environment" "production_payment" {
  repository          = var.repository
  environment         = "production-payment"
  prevent_self_review = true
  reviewers {
    teams = [data.github_team.release_managers.id]
  }
  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }
}

resource "github_repository_environment" "production_order" {
  repository          = var.repository
  environment         = "production-order"
  prevent_self_review = true
  reviewers {
    teams = [data.github_team.release_managers.id]
  }
  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }
}

locals {
  environments = {
    staging            = github_repository_environment.staging.environment
    production         = github_repository_environment.production.environment
    production_payment = github_repository_environment.production_payment.environment
    production_order   = github_repository_environment.production_order.environment
  }
}

# Release tags (v1.2.3) may deploy to every environment; nothing else may.
resource "github_repository_environment_deployment_policy" "release_tags" {
  for_each    = local.environments
  repository  = var.repository
  environment = each.value
  tag_pattern = "v*"
}
