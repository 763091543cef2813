# One environment of the platform on AWS: the network, the Kubernetes cluster, Kafka,
# PostgreSQL (a database per service), the services' secrets and the IAM roles their pods
# take. environments/<name> call it with their sizes; the chart's values-<name>.yaml take its
# outputs (aws.*, kafka.bootstrapServers).

locals {
  name      = "retail-${var.environment}"
  namespace = "retail-${var.environment}"
  # The services that own a database (all but the gateway and the console), as the chart's
  # values.yaml; the console has secrets but no database.
  services = toset(["user", "product", "inventory", "order", "payment", "notification", "audit"])
  without_database = toset(["console"])
  # Secrets the platform makes itself; the providers' (Stripe, SendGrid, …) an operator adds.
  generated = {
    user         = ["key_encryption_secret"]
    order        = ["service_client_secret"]
    notification = ["service_client_secret"]
    console      = ["session_secret"]
  }
}

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "key" {
  # The account administers the key; AWS services use it through grants and their own
  # principals' policies (the roles in modules/irsa and the services named below).
  # checkov:skip=CKV_AWS_109:A key policy's "*" is the key itself; the account statement is AWS's default key policy, which lets IAM policies grant the key (the roles' own-secret statements)
  # checkov:skip=CKV_AWS_111:As above: "*" in a key policy means this key, and only IAM principals of this account get it
  # checkov:skip=CKV_AWS_356:As above: a key policy cannot name the key's own ARN before it exists; "*" is that key
  statement {
    sid       = "Account"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  statement {
    sid       = "Logs"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "this" {
  description         = "${local.name}: Kubernetes Secrets, Kafka, PostgreSQL, secrets, logs, pictures"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.this.key_id
}

module "network" {
  source             = "../network"
  name               = local.name
  cidr               = var.vpc_cidr
  availability_zones = var.availability_zones
  kms_key_arn        = aws_kms_key.this.arn
}

module "eks" {
  source              = "../eks"
  name                = local.name
  kubernetes_version  = var.kubernetes_version
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.private_subnet_ids
  kms_key_arn         = aws_kms_key.this.arn
  api_allowed_cidrs   = var.api_allowed_cidrs
  node_instance_types = var.node_instance_types
  node_count          = var.node_count
}

module "msk" {
  source                    = "../msk"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.node_security_group_id]
  kms_key_arn               = aws_kms_key.this.arn
  broker_instance_type      = var.kafka_broker_instance_type
}

module "rds" {
  source                    = "../rds"
  name                      = local.name
  services                  = local.services
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.node_security_group_id]
  kms_key_arn               = aws_kms_key.this.arn
  instance_class            = var.database_instance_class
  multi_az                  = var.multi_az
  deletion_protection       = var.deletion_protection
}

resource "random_password" "generated" {
  for_each = toset(flatten([for service, names in local.generated : [for name in names : "${service}/${name}"]]))
  length   = 48
  special  = false
}

module "secrets" {
  source              = "../secrets"
  prefix              = "retail/${var.environment}"
  kms_key_arn         = aws_kms_key.this.arn
  rotation_lambda_arn = var.rotation_lambda_arn
  services = merge(
    {
      for service in local.services :
      service => merge(
        { database_url = module.rds.database_urls[service] },
        { for name in lookup(local.generated, service, []) : name => random_password.generated["${service}/${name}"].result },
      )
    },
    {
      for service in local.without_database :
      service => { for name in lookup(local.generated, service, []) : name => random_password.generated["${service}/${name}"].result }
    },
  )
}

module "irsa" {
  source            = "../irsa"
  name              = local.name
  namespace         = local.namespace
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  secret_arns       = module.secrets.secret_arns
  kms_key_arn       = aws_kms_key.this.arn
  media_bucket_arn  = aws_s3_bucket.media.arn
}
