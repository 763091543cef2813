output "role_arns" {
  value = { for service, role in aws_iam_role.service : service => role.arn }
}

output "role_arn_prefix" {
  description = "The chart's aws.roleArnPrefix: every role's ARN without the service's name."
  value       = trimsuffix(aws_iam_role.service[keys(var.secret_arns)[0]].arn, keys(var.secret_arns)[0])
}
