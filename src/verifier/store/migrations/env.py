"""Alembic environment: runs on the connection `verifier.store.migrate` hands over (no alembic.ini needed)."""

from alembic import context

from verifier.store import models  # noqa: F401  (registers every table)
from verifier.store.base import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
