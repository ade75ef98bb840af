"""Row-level security on the contacts app's tenant tables (PostgreSQL; rathaus.core.wall)."""

from django.db import migrations

from rathaus.core.wall import protect


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0003_reply_delivery_raw_mail_encrypted_password"),
        ("core", "0009_tenant_wall"),
    ]

    operations = [protect("contacts")]
