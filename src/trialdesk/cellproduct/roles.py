"""What each role (conduct's groups, ``trialdesk.conduct.roles``) may do with the cell
product. The permissions live in this app; migration 0002 and :func:`sync_roles` give them to
the groups, leaving each group's conduct permissions alone."""

from __future__ import annotations

from typing import Any

_VIEW = ["view_donor", "view_productlot", "view_doseunit", "trace_product"]

#: role name -> permission codenames of the ``cellproduct`` app
ROLES: dict[str, list[str]] = {
    "cell-lab staff": _VIEW + ["record_cell_product", "release_lot", "prepare_dose"],
    "investigator": _VIEW + ["bedside_check"],
    "coordinator": _VIEW + ["bedside_check"],
    "monitor": _VIEW,
    "data manager": _VIEW,
    "safety review committee member": [],
    "administrator": [],
}


def sync_roles(apps: Any, schema_editor: Any = None) -> None:
    """Give each role exactly its cell-product permissions (other apps' untouched)."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("cellproduct")
    if getattr(config, "models_module", None) is None:  # a migration's historical registry
        config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        mine = Permission.objects.filter(content_type__app_label="cellproduct")
        wanted = list(mine.filter(codename__in=codenames))
        missing = sorted(set(codenames) - {p.codename for p in wanted})
        if missing:
            raise RuntimeError(f"role {role!r}: no permission {', '.join(missing)}")
        group.permissions.remove(*mine.exclude(codename__in=codenames))
        group.permissions.add(*wanted)
