"""Append-only audit tables: triggers refusing UPDATE and DELETE (and TRUNCATE on PostgreSQL)
on audit entries and checkpoints. The SQL lives in `haven.audit.dbguard`, per vendor; its
install is idempotent, so a later migration that changes it simply runs it again."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from haven.audit import dbguard

    dbguard.install(schema_editor.connection)


def uninstall(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from haven.audit import dbguard

    dbguard.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
