"""Alembic environment: runs the store's migrations on the connection handed in by ``upgrade``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.store.schema import metadata

target_metadata = metadata


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave out tables the migrations do not own (slack_sdk's installation store creates its own)."""
    return not (type_ == "table" and reflected and compare_to is None and name not in metadata.tables)


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    # Called by the ``alembic`` command line with ``sqlalchemy.url`` set, e.g. to write a revision.
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or run the migrations with bot.store.engine.upgrade")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            context.configure(
                connection=conn, target_metadata=target_metadata, render_as_batch=True, include_object=include_object
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


_run()
