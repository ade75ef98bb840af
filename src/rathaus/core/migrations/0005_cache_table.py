"""The shared cache's table (settings.CACHES), made with the database like every other table."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_alter_membership_role")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
