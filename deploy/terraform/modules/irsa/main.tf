# IAM roles for service accounts: each service's pods, and only they, take a role that may read
# that service's own secret (and decrypt it) — nothing else; Product may also use its picture
# bucket. The trust names one ServiceAccount in one namespace.

data "aws_iam_policy_document" "trust" {
  for_each = var.secret_arns
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.namespace}:retail-${each.key}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "service" {
  for_each = var.secret_arns
  statement {
    sid       = "OwnSecret"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [each.value]
  }
  statement {
    sid       = "DecryptOwnSecret"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:SecretARN"
      values   = [each.value]
    }
  }
  dynamic "statement" {
    for_each = each.key == "product" ? [var.media_bucket_arn] : []
    content {
      sid       = "Pictures"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = ["${statement.value}/*"]
    }
  }
}

resource "aws_iam_role" "service" {
  for_each           = var.secret_arns
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.trust[each.key].json
}

resource "aws_iam_role_policy" "service" {
  for_each = var.secret_arns
  name     = "own-secret"
  role     = aws_iam_role.service[each.key].id
  policy   = data.aws_iam_policy_document.service[each.key].json
}
