"""Every module's tables on one metadata: what the migrations must produce, and what alembic compares."""

from __future__ import annotations

from modules.access import models as access_models
from modules.budgets import models as budgets_models
from modules.core.database import Base
from modules.providers import models as providers_models
from modules.usage import models as usage_models
from modules.usage.conversations import models as conversation_models
from modules.usage.retention.partitions import is_partition
from modules.users import models as users_models
from modules.workspaces import models as workspaces_models

MODULE_MODELS = (
    workspaces_models,
    access_models,
    users_models,
    providers_models,
    usage_models,
    conversation_models,
    budgets_models,
)
metadata = Base.metadata


def compared(_object: object, name: str | None, type_: str, reflected: bool, _compare_to: object) -> bool:
    """alembic's include_object: everything but usage_events' monthly partitions, which the service makes as the
    months come (modules/usage/retention/partitions.py), not the models."""
    return not (type_ == "table" and reflected and name is not None and is_partition(name))
