variable "prefix" {
  description = "Secret names are <prefix>/<service> (retail/prod): the chart's aws.secretsManager.secretPrefix."
  type        = string
}

variable "services" {
  description = "For each service, the settings its secret starts with (database_url and the generated secrets); an operator adds the providers' keys."
  type        = map(map(string))
  sensitive   = true
}

variable "kms_key_arn" {
  type = string
}

variable "rotation_lambda_arn" {
  description = "The function that rotates the services' secrets (empty: no scheduled rotation, as in dev)."
  type        = string
  default     = ""
}

variable "rotation_schedule" {
  description = "When rotation runs: nightly."
  type        = string
  default     = "cron(0 3 * * ? *)"
}

variable "recovery_window_days" {
  type    = number
  default = 30
}
