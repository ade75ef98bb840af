"""Row-level security on the core app's tenant tables (PostgreSQL; rathaus.core.wall)."""

from django.db import migrations

from rathaus.core.wall import protect


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_access_client"),
    ]

    operations = [protect("core")]
