output "bootstrap_brokers_tls" {
  description = "The chart's kafka.bootstrapServers (with kafka.securityProtocol: SSL)."
  value       = aws_msk_cluster.this.bootstrap_brokers_tls
}
