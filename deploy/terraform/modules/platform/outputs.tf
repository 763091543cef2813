# What the chart's values-<environment>.yaml take.

output "kafka_bootstrap_servers" {
  description = "kafka.bootstrapServers (kafka.securityProtocol: SSL)."
  value       = module.msk.bootstrap_brokers_tls
}

output "secret_prefix" {
  description = "aws.secretsManager.secretPrefix."
  value       = "retail/${var.environment}"
}

output "role_arn_prefix" {
  description = "aws.roleArnPrefix."
  value       = module.irsa.role_arn_prefix
}

output "media_bucket" {
  description = "services.product.env.S3_BUCKET."
  value       = aws_s3_bucket.media.bucket
}

output "cluster_name" {
  value = module.eks.cluster_name
}

output "vpc_cidr" {
  description = "egress.postgres/kafka/awsEndpoints.cidrs."
  value       = module.network.cidr
}
