# One secret per service: a JSON object of its settings by name, read at start by the kernel
# (retail_kernel.secrets_manager) and watched for rotations, which apply without a restart to
# the settings a service reads at every use (webhook secrets, inbound tokens). Encrypted with
# our key. Terraform writes the first version only: rotations and the values operators add
# (Stripe's keys) are never reverted by a later apply.

resource "aws_secretsmanager_secret" "service" {
  for_each                = nonsensitive(toset(keys(var.services)))
  name                    = "${var.prefix}/${each.key}"
  description             = "Settings of the ${each.key} service (JSON by setting name)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
}

resource "aws_secretsmanager_secret_version" "first" {
  for_each      = aws_secretsmanager_secret.service
  secret_id     = each.value.id
  secret_string = jsonencode(var.services[each.key])
  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "aws_secretsmanager_secret_rotation" "nightly" {
  for_each            = var.rotation_lambda_arn == "" ? {} : aws_secretsmanager_secret.service
  secret_id           = each.value.id
  rotation_lambda_arn = var.rotation_lambda_arn
  rotation_rules {
    schedule_expression = var.rotation_schedule
  }
}
