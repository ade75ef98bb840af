"""Row-level security on the staff login's tenant tables (PostgreSQL; rathaus.core.wall)."""

from django.db import migrations

from rathaus.core.wall import protect


class Migration(migrations.Migration):
    dependencies = [
        ("staffauth", "0001_initial"),
        ("core", "0009_tenant_wall"),
    ]

    operations = [protect("staffauth")]
