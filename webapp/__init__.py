"""The PAR INDEX web application (Flask): factory and registration steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from webapp.config import DefaultConfig, env_overrides, resolve_secret_key
from webapp.extensions import csrf, db, limiter, login_manager, mail, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then environment, then explicit overrides (tests)."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(DefaultConfig)
    app.config.update(env_overrides())
    if overrides:
        app.config.update(overrides)
    # Embedded default: no database configured, so SQLite and its key live in instance/.
    # Configured deployments keep no state on local disk (instances run side by side).
    embedded = not app.config.get("SQLALCHEMY_DATABASE_URI")
    if embedded:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'parindex.sqlite'}"
        )
    app.config["SECRET_KEY"] = resolve_secret_key(
        app.config, Path(app.instance_path), embedded
    )
    if not app.config.get("EVIDENCE_LOCAL_ROOT"):
        app.config["EVIDENCE_LOCAL_ROOT"] = str(Path(app.instance_path) / "evidence")

    trust_proxies(app)
    from webapp.evidence.intake import StreamingRequest

    app.request_class = StreamingRequest
    register_extensions(app)
    register_blueprints(app)
    register_shell(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Read the client address and scheme from the configured number of proxies only.

    Without this an X-Forwarded-For sent by the client itself would pick the address
    the login throttle counts; with it, only the hops nginx appends are believed.
    """
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def register_extensions(app: Flask) -> None:
    from webapp import criteria_sets, security, storage
    from webapp.page_revision import keep_page_revisions

    db.init_app(app)
    keep_page_revisions(db.session)
    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    login_manager.init_app(app)
    app.config.setdefault("MAIL_BACKEND", "smtp")
    mail.init_app(app)
    security.init_app(app)
    storage.init_app(app)
    criteria_sets.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _sqlite_pragmas(app)


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    with app.app_context():
        # A module-level listener: a closure here would sit in a reference cycle with
        # its engine and be collected in some later request's garbage collection.
        event.listen(db.engine, "connect", _sqlite_on_connect)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # SQLite leaves foreign keys off; WAL lets readers run during a write.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def register_blueprints(app: Flask) -> None:
    from webapp import api, errors, formatting, lifecycle
    from webapp.account import bp as account_bp
    from webapp.admin import bp as admin_bp
    from webapp.appraisal import bp as appraisal_bp
    from webapp.assessment import bp as assessment_bp
    from webapp.auth import bp as auth_bp
    from webapp.cli import register_commands
    from webapp.discussion import bp as discussion_bp
    from webapp.dossier import bp as dossier_bp
    from webapp.evidence import bp as evidence_bp
    from webapp.help import bp as help_bp
    from webapp.main import bp as main_bp
    from webapp.notify import bp as notify_bp
    from webapp.plan import bp as plan_bp
    from webapp.results import bp as results_bp

    formatting.init_app(app)
    lifecycle.init_app(app)
    errors.init_app(app)
    for bp in (
        main_bp,
        auth_bp,
        account_bp,
        help_bp,
        admin_bp,
        assessment_bp,
        evidence_bp,
        appraisal_bp,
        results_bp,
        dossier_bp,
        plan_bp,
        notify_bp,
        discussion_bp,
    ):
        app.register_blueprint(bp)
    api.init_app(app)
    register_commands(app)


def register_shell(app: Flask) -> None:
    from webapp import models

    @app.shell_context_processor
    def _ctx() -> dict[str, Any]:
        return {"db": db, "models": models}
