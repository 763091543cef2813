variable "name" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "One private subnet per broker zone."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Who may connect: the cluster's nodes."
  type        = list(string)
}

variable "kms_key_arn" {
  type = string
}

variable "kafka_version" {
  type    = string
  default = "3.8.x"
}

variable "broker_instance_type" {
  type    = string
  default = "kafka.m7g.large"
}

variable "brokers_per_zone" {
  type    = number
  default = 1
}

variable "volume_size_gb" {
  type    = number
  default = 100
}

variable "log_retention_days" {
  type    = number
  default = 365
}
