output "secret_arns" {
  description = "Each service's secret: what its IAM role may read (modules/irsa)."
  value       = { for service, secret in aws_secretsmanager_secret.service : service => secret.arn }
}
