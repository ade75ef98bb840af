"""Row-level security on the catalog app's tenant tables (PostgreSQL; rathaus.core.wall)."""

from django.db import migrations

from rathaus.core.wall import protect


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("core", "0009_tenant_wall"),
    ]

    operations = [protect("catalog")]
