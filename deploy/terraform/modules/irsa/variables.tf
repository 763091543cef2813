variable "name" {
  description = "Roles are <name>-<service> (retail-prod-order): the chart's aws.roleArnPrefix."
  type        = string
}

variable "namespace" {
  description = "Where the chart runs (its ServiceAccounts are retail-<service>)."
  type        = string
}

variable "oidc_provider_arn" {
  type = string
}

variable "oidc_issuer" {
  type = string
}

variable "secret_arns" {
  description = "Each service's own secret."
  type        = map(string)
}

variable "kms_key_arn" {
  type = string
}

variable "media_bucket_arn" {
  description = "The Product service's picture bucket."
  type        = string
}
