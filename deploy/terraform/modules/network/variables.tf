variable "name" {
  description = "Prefix of every resource's name (retail-prod)."
  type        = string
}

variable "cidr" {
  description = "The VPC's address range."
  type        = string
}

variable "availability_zones" {
  description = "Two or three zones: one private and one public subnet in each."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "The key that encrypts the flow logs."
  type        = string
}

variable "log_retention_days" {
  description = "How long flow logs are kept."
  type        = number
  default     = 365
}
