# Managed Kafka: one broker per zone (three for prod's replication factor 3), TLS between
# clients and brokers and among brokers (the services set kafka.securityProtocol: SSL), data
# encrypted with our key, broker logs kept. Topics are made by the chart's hook job
# (`retail topics ensure`), not here.

locals {
  brokers     = length(var.subnet_ids) * var.brokers_per_zone
  replication = min(3, local.brokers)
}

resource "aws_security_group" "msk" {
  name        = "${var.name}-msk"
  description = "Kafka over TLS from the cluster's nodes only"
  vpc_id      = var.vpc_id
  ingress {
    description     = "Kafka TLS listener"
    from_port       = 9094
    to_port         = 9094
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }
}

resource "aws_cloudwatch_log_group" "msk" {
  name              = "/msk/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_msk_configuration" "this" {
  name           = "${var.name}-kafka"
  kafka_versions = [var.kafka_version]
  # Nothing appears by accident: topics are made with their partitions by the hook job.
  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=${local.replication}
    min.insync.replicas=${max(1, local.replication - 1)}
    unclean.leader.election.enable=false
  PROPERTIES
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = local.brokers
  enhanced_monitoring    = "PER_TOPIC_PER_BROKER"

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.msk.id]
    storage_info {
      ebs_storage_info {
        volume_size = var.volume_size_gb
      }
    }
    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  # TLS is required in transit (encryption_info) and clients are limited to the cluster's
  # nodes by the security group. The services have no Kafka client certificates or SASL/IAM
  # support yet, so a client's identity is its network.
  client_authentication {
    unauthenticated = true
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.msk.name
      }
    }
  }
}
