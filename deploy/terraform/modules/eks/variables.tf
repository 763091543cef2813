variable "name" {
  description = "The cluster's name (retail-prod)."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS's Kubernetes minor version."
  type        = string
  default     = "1.33"
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "Private subnets for the control plane's interfaces and the nodes."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "The key that encrypts Kubernetes Secrets and the control plane's logs."
  type        = string
}

variable "api_allowed_cidrs" {
  description = "Who may reach the Kubernetes API from outside the VPC (CI, operators); empty keeps it private."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  type    = list(string)
  default = ["m6i.large"]
}

variable "node_count" {
  description = "Nodes at rest, and the autoscaler's bounds."
  type        = object({ min = number, desired = number, max = number })
}

variable "log_retention_days" {
  type    = number
  default = 365
}
