"""Migrations build exactly the schema the models describe (SQLite, PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


@pytest.fixture
def migrated_app(app_config: dict[str, Any]) -> Any:
    from flask_migrate import downgrade, upgrade

    from webapp import create_app
    from webapp.extensions import db

    app = create_app(app_config)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        yield app
        downgrade(revision="base")
        db.session.remove()
        db.engine.dispose()


def test_upgrade_matches_the_models(migrated_app: Any) -> None:
    from webapp.extensions import db

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == []


def test_demo_data_loads_on_the_migrated_schema(migrated_app: Any) -> None:
    result = migrated_app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "truclam.lanhdao" in result.output
