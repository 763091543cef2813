output "database_urls" {
  description = "Each service's database URL (its instance's owner, TLS required)."
  sensitive   = true
  value = {
    for service, instance in aws_db_instance.service :
    service => format(
      "postgresql+asyncpg://%s:%s@%s/%s?ssl=require",
      instance.username,
      random_password.owner[service].result,
      instance.endpoint,
      instance.db_name,
    )
  }
}
