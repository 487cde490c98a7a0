"""Import every model module so that ``Base.metadata`` knows all tables (Alembic, tests)."""

from bot.channels import (
    telegram_models,  # noqa: F401
    wechat_models,  # noqa: F401
)
from bot.handoff import models as handoff_models  # noqa: F401
from bot.storage import models  # noqa: F401
