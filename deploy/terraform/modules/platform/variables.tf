variable "environment" {
  description = "dev, staging or prod: names every resource (retail-<environment>)."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "vpc_cidr" {
  type = string
}

variable "availability_zones" {
  type = list(string)
}

variable "kubernetes_version" {
  type    = string
  default = "1.33"
}

variable "api_allowed_cidrs" {
  description = "CIDRs that may reach the Kubernetes API from outside the VPC (the CI runners, operators)."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  type = list(string)
}

variable "node_count" {
  type = object({ min = number, desired = number, max = number })
}

variable "kafka_broker_instance_type" {
  type = string
}

variable "database_instance_class" {
  type = string
}

variable "multi_az" {
  type = bool
}

variable "deletion_protection" {
  type = bool
}

variable "rotation_lambda_arn" {
  description = "The function that rotates the services' secrets nightly (empty: none)."
  type        = string
  default     = ""
}
