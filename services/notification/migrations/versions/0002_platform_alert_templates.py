"""Platform alert templates: what Alertmanager's alerts say on the operators' channels

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 12:40:00.000000
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLATFORM = "*"
NAMESPACE = uuid.UUID("6f1d9a52-7c1e-4bd4-9a57-1c0e5f0b7d11")
SUBJECT = (
    "[{{ alert.status | upper }}] {{ alert.name }} ({{ alert.severity }}): {{ alert.service }}"
)
LINE = (
    "{{ alert.summary }}{% if alert.description %} {{ alert.description }}{% endif %}"
    " Since {{ alert.starts_at }}.{% if alert.runbook_url %} Runbook: {{ alert.runbook_url }}"
    "{% endif %}"
)
TEMPLATES = [
    ("slack", SUBJECT, "{% if alert.status == 'firing' %}:rotating_light:{% else %}"
     ":white_check_mark:{% endif %} *" + SUBJECT + "* " + LINE),
    ("teams", SUBJECT, SUBJECT + ": " + LINE),
    ("email", SUBJECT, "<p>" + LINE + "</p>"),
]  # fmt: skip


def _ids() -> list[uuid.UUID]:
    return [
        uuid.uuid5(NAMESPACE, f"template:platform_alert:{channel}:en") for channel, *_ in TEMPLATES
    ]


def upgrade() -> None:
    templates = sa.table(
        "templates",
        sa.column("id", sa.Uuid()),
        sa.column("tenant_id", sa.String()),
        sa.column("name", sa.String()),
        sa.column("channel", sa.String()),
        sa.column("locale", sa.String()),
        sa.column("subject", sa.String()),
        sa.column("body", sa.Text()),
    )
    op.bulk_insert(
        templates,
        [
            {
                "id": template_id,
                "tenant_id": PLATFORM,
                "name": "platform_alert",
                "channel": channel,
                "locale": "en",
                "subject": subject,
                "body": body,
            }
            for template_id, (channel, subject, body) in zip(_ids(), TEMPLATES, strict=True)
        ],
    )


def downgrade() -> None:
    templates = sa.table("templates", sa.column("id", sa.Uuid()))
    op.execute(templates.delete().where(templates.c.id.in_(_ids())))
