"""Row-level security on the appointments app's tenant tables (PostgreSQL; rathaus.core.wall)."""

from django.db import migrations

from rathaus.core.wall import protect


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0003_retention"),
        ("core", "0009_tenant_wall"),
    ]

    operations = [protect("appointments")]
