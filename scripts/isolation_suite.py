"""Isolation and hostile-input suite, run over HTTP against a live PAR INDEX server.

    python scripts/isolation_suite.py --base-url http://127.0.0.1:5108 \\
        --password 'ParIndex@2026'            # the demo users (flask demo load)
    python scripts/isolation_suite.py --base-url URL --users users.json
        # [{"username": "...", "password": "...", "role": "unit_editor"}, ...]

Prints "N tried / N held" per family and exits 1 if anything did not hold:

- cross-unit: every object-addressed route of the app's url_map, filled with the
  assessment and evidence ids (and leaf codes) one unit's own pages show, requested by
  the users of every other unit and by appraisers who cannot see that assessment.
  Held: 403 or 404, and none of the owner's marker strings in the body.
- cross-role: every route whose roles (``webapp.access.roles_required``) exclude a
  user's role, filled with that user's own ids, and every route for an anonymous
  visitor. Held: 403/404; for anonymous, the login page, 401 or 400.
- hostile uploads: the corpus of tests/unit/uploads/conftest.py (``bad_upload_corpus``)
  uploaded by a unit editor with a valid form token. Held: refused with a JSON error
  and absent from the unit's library afterwards.
- forged CSRF: every POST route, by every user and anonymously, with no token, a
  forged one, and another session's. Held: 400 with the app's form-token message.
- replayed cookies: a session cookie used again after its logout. Held: sent to login.

Ids are discovered by crawling each user's own pages. The only change the suite makes
when everything holds: each unit's first editor uploads one small PDF whose name and
summary carry a random marker, so that a leak of it can be recognised.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import re
import secrets
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, MapAdapter, Rule

ROOT = Path(__file__).resolve().parent.parent
DEMO_USERS = [
    ("admin", "admin"),
    ("truclam.chuyenvien", "unit_editor"),
    ("truclam.lanhdao", "unit_head"),
    ("nghison.chuyenvien", "unit_editor"),
    ("nghison.lanhdao", "unit_head"),
    ("thamdinh", "appraiser"),
]
PUBLIC = {"static", "auth.login", "main.healthz"}
# Binary downloads are requested in the probes, never followed by the crawler.
NOT_CRAWLED = {
    "auth.logout",
    "dossier.dossier_zip",
    "dossier.report_docx",
    "dossier.scores_xlsx",
    "dossier.ranking_xlsx",
    "evidence.download",
    "evidence.preview",
}
OWNED_ARGS = {"assessment_id", "evidence_id"}
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LINK = re.compile(r'(?:href|action)="([^"]+)"')
CSRF_REFUSAL = "mã bảo mật biểu mẫu"  # in the app's CSRF error page and JSON
XHR = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}


@dataclass
class Family:
    name: str
    tried: int = 0
    held: int = 0
    failures: list[str] = field(default_factory=list)

    def record(self, ok: bool, what: str) -> None:
        self.tried += 1
        if ok:
            self.held += 1
        elif len(self.failures) < 20:
            self.failures.append(what)

    def line(self) -> str:
        return f"{self.name}: {self.tried} tried / {self.held} held"


@dataclass
class Principal:
    username: str
    role: str  # "anonymous" for the visitor without an account
    http: requests.Session
    seen: dict[str, set[Any]] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)

    def token(self, base: str) -> str:
        page = self.http.get(base + ("/auth/login" if self.is_anonymous else "/"))
        match = TOKEN.search(page.text)
        # No token on the page: CSRF is off, which the forged-CSRF family will show.
        return match.group(1) if match else ""

    @property
    def is_anonymous(self) -> bool:
        return self.role == "anonymous"

    @property
    def is_unit_user(self) -> bool:
        return self.role in ("unit_editor", "unit_head")

    def ids(self, arg: str) -> list[Any]:
        return sorted(self.seen.get(arg, set()), key=str)


# --- routes and discovery ------------------------------------------------------------


def url_map() -> tuple[Map, dict[str, frozenset[str] | None]]:
    """The app's routes and each view's roles, from the code the server runs.

    Built from a throwaway app instance: no database is opened.
    """
    from webapp import create_app

    app = create_app(
        {"SECRET_KEY": "isolation-suite", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    roles = {
        endpoint: getattr(view, "allowed_roles", None)
        for endpoint, view in app.view_functions.items()
    }
    return app.url_map, roles


def rules(routes: Map) -> list[Rule]:
    # /api/ takes a personal token only: a session there always gets 401. Its own
    # matrix (tests/integration/api/test_api_access_matrix.py) probes it with tokens.
    return sorted(
        (
            r
            for r in routes.iter_rules()
            if r.endpoint not in PUBLIC and not r.rule.startswith("/api/")
        ),
        key=lambda r: r.rule,
    )


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) & {"GET", "POST"})


def login(base: str, username: str, password: str, role: str) -> Principal:
    http = requests.Session()
    page = http.get(base + "/auth/login")
    match = TOKEN.search(page.text)
    response = http.post(
        base + "/auth/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": match.group(1) if match else "",
        },
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise SystemExit(f"login as {username} failed: HTTP {response.status_code}")
    return Principal(username, role, http)


def crawl(base: str, who: Principal, adapter: MapAdapter, limit: int = 150) -> None:
    """Follow the user's own links from the home page; note every id they show."""
    queue: list[str] = ["/"]
    visited: set[str] = set()
    while queue and len(visited) < limit:
        path = queue.pop(0)
        if path in visited:
            continue
        visited.add(path)
        response = who.http.get(base + path)
        if "text/html" not in response.headers.get("Content-Type", ""):
            continue
        for raw in LINK.findall(response.text):
            target = html.unescape(raw)
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            for method in ("GET", "POST"):
                try:
                    endpoint, values = adapter.match(parts.path, method=method)
                except HTTPException:
                    continue
                for arg, value in values.items():
                    who.seen.setdefault(arg, set()).add(value)
                full = parts.path + (f"?{parts.query}" if parts.query else "")
                if method == "GET" and endpoint not in NOT_CRAWLED | PUBLIC:
                    queue.append(full)


def fill(rule: Rule, owner: Principal, *others: Principal) -> Iterator[dict[str, Any]]:
    """Argument values for a rule: the owner's ids first, then anyone's, else 1."""
    options: dict[str, list[Any]] = {}
    for arg in sorted(rule.arguments):
        for who in (owner, *others):
            if who.ids(arg):
                options[arg] = who.ids(arg)[:2]
                break
        else:
            options[arg] = [1]
    combos: list[dict[str, Any]] = [{}]
    for arg, values in options.items():
        combos = [{**c, arg: v} for c in combos for v in values]
    yield from combos


def build(adapter: MapAdapter, rule: Rule, values: dict[str, Any]) -> str:
    return adapter.build(rule.endpoint, values, force_external=False)


# --- probes ---------------------------------------------------------------------------


def send(
    base: str, who: Principal, method: str, url: str, token: str | None
) -> requests.Response:
    data = {"csrf_token": token} if token else {}
    return who.http.request(
        method,
        base + url,
        data=data if method == "POST" else None,
        allow_redirects=False,
        timeout=60,
    )


def is_login_redirect(response: requests.Response) -> bool:
    return response.status_code == 302 and "/auth/login" in response.headers.get(
        "Location", ""
    )


def refused_for_csrf(response: requests.Response) -> bool:
    """A 400 that is the form-token refusal, not a form error that is also a 400."""
    if response.status_code != 400:
        return False
    if "json" in response.headers.get("Content-Type", ""):
        text = str(response.json())
    else:
        text = html.unescape(response.text)
    return CSRF_REFUSAL in text


def leaked(response: requests.Response, markers: Iterable[str]) -> list[str]:
    body = response.content.decode("utf-8", "replace")
    return [m for m in markers if m in body]


def units(people: list[Principal]) -> list[list[Principal]]:
    """Unit users grouped by the assessments their pages show (same unit: same ids)."""
    groups: list[list[Principal]] = []
    for who in (p for p in people if p.is_unit_user):
        mine = set(who.ids("assessment_id"))
        for group in groups:
            if mine & set(group[0].ids("assessment_id")):
                group.append(who)
                break
        else:
            groups.append([who])
    return groups


def cross_unit(
    base: str,
    routes: Map,
    adapter: MapAdapter,
    people: list[Principal],
    limit: int | None,
) -> Family:
    family = Family("cross-unit")
    groups = units(people)
    admin = next((p for p in people if p.role == "admin"), None)
    codes = sorted({c for p in people for c in p.ids("code")}, key=str)
    known = {a for g in groups for p in g for a in p.ids("assessment_id")}
    victims: list[tuple[list[Principal], set[Any], set[Any], list[str]]] = [
        (
            group,
            {a for p in group for a in p.ids("assessment_id")},
            {e for p in group for e in p.ids("evidence_id")},
            [m for p in group for m in p.markers],
        )
        for group in groups
    ]
    if admin is not None:  # units without credentials here: ids the coordinator sees
        rest = set(admin.ids("assessment_id")) - known
        if rest:
            victims.append(([], rest, set(), []))
    tokens = {p.username: p.token(base) for p in people if not p.is_anonymous}
    targets = [r for r in rules(routes) if r.arguments & OWNED_ARGS]
    for members, assessments, evidence, markers in victims:
        for attacker in people:
            if attacker.is_anonymous or attacker.role == "admin" or attacker in members:
                continue
            if attacker.role == "appraiser" and assessments & set(
                attacker.ids("assessment_id")
            ):
                continue  # an assessment this appraiser may see
            for rule in targets:
                for values in _victim_values(rule, assessments, evidence, codes):
                    url = build(adapter, rule, values)
                    for method in methods(rule):
                        if limit is not None and family.tried >= limit:
                            return family
                        response = send(
                            base, attacker, method, url, tokens[attacker.username]
                        )
                        leaks = leaked(response, markers)
                        ok = response.status_code in (403, 404) and not leaks
                        family.record(
                            ok,
                            f"{attacker.username} {method} {url}: "
                            f"{response.status_code} {leaks or ''}",
                        )
    return family


def _victim_values(
    rule: Rule, assessments: set[Any], evidence: set[Any], codes: list[Any]
) -> Iterator[dict[str, Any]]:
    if "evidence_id" in rule.arguments:
        for evidence_id in sorted(evidence):
            yield {"evidence_id": evidence_id}
        return
    for assessment_id in sorted(assessments):
        if "code" in rule.arguments:
            for code in codes or ["1"]:
                yield {"assessment_id": assessment_id, "code": code}
        else:
            yield {"assessment_id": assessment_id}


def cross_role(
    base: str,
    routes: Map,
    roles: dict[str, frozenset[str] | None],
    adapter: MapAdapter,
    people: list[Principal],
    limit: int | None,
) -> Family:
    family = Family("cross-role")
    tokens = {p.username: p.token(base) for p in people}
    for who in people:
        for rule in rules(routes):
            allowed = roles.get(rule.endpoint)
            if not who.is_anonymous and (allowed is None or who.role in allowed):
                continue
            for values in fill(rule, who, *people):
                url = build(adapter, rule, values)
                for method in methods(rule):
                    if limit is not None and family.tried >= limit:
                        return family
                    response = send(base, who, method, url, tokens[who.username])
                    if who.is_anonymous:
                        ok = is_login_redirect(response) or response.status_code in (
                            400,
                            401,
                        )
                    else:
                        ok = response.status_code in (403, 404)
                    family.record(
                        ok, f"{who.username} {method} {url}: {response.status_code}"
                    )
    return family


def forged_csrf(
    base: str,
    routes: Map,
    adapter: MapAdapter,
    people: list[Principal],
    limit: int | None,
) -> Family:
    family = Family("forged CSRF")
    tokens = {p.username: p.token(base) for p in people}
    for who in people:
        other = next(t for name, t in tokens.items() if name != who.username)
        for rule in rules(routes):
            if "POST" not in methods(rule):
                continue
            url = build(adapter, rule, next(fill(rule, who, *people)))
            for label, token in (
                ("none", None),
                ("forged", "gia-mao-" + secrets.token_hex(20)),
                ("another session's", other),
            ):
                if limit is not None and family.tried >= limit:
                    return family
                response = send(base, who, "POST", url, token)
                family.record(
                    refused_for_csrf(response),
                    f"{who.username} POST {url} ({label} token): "
                    f"{response.status_code}",
                )
    return family


def hostile_uploads(
    base: str, people: list[Principal], corpus: dict[str, Any], limit: int | None
) -> Family:
    family = Family("hostile uploads")
    editor = next(p for p in people if p.role == "unit_editor")
    assessment_id, code = editor.ids("assessment_id")[0], editor.ids("code")[0]
    token = editor.token(base)
    refused: list[tuple[str, str]] = []
    for name, upload in list(corpus.items())[:limit]:
        response = editor.http.post(
            f"{base}/evidence/assessments/{assessment_id}/upload",
            data={"csrf_token": token, "criterion_code": code},
            files={"file": (upload.filename, upload.data, "application/octet-stream")},
            headers=XHR,
            timeout=120,
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if 400 <= response.status_code < 500 and answer.get("ok") is False:
            refused.append((name, upload.filename))
        else:
            family.record(False, f"{name} ({upload.filename}): {response.status_code}")
    library = html.unescape(editor.http.get(base + "/evidence/").text)
    for name, filename in refused:
        family.record(filename not in library, f"{name}: listed in the library")
    return family


def replayed_cookies(
    base: str, people: list[Principal], passwords: dict[str, str]
) -> Family:
    family = Family("replayed cookies")
    for who in people:
        if who.is_anonymous:
            continue
        fresh = login(base, who.username, passwords[who.username], who.role)
        cookies = fresh.http.cookies.copy()
        fresh.http.post(
            base + "/auth/logout",
            data={"csrf_token": fresh.token(base)},
            allow_redirects=False,
        )
        replay = requests.Session()
        replay.cookies.update(cookies)
        for path in ("/", "/auth/password"):
            response = replay.get(base + path, allow_redirects=False)
            family.record(
                is_login_redirect(response),
                f"{who.username} {path}: {response.status_code}",
            )
    return family


# --- setup and entry point ------------------------------------------------------------


def upload_corpus() -> tuple[dict[str, Any], dict[str, Any]]:
    """The hostile corpus the validation tests check refusal by refusal."""
    spec = importlib.util.spec_from_file_location(
        "parindex_upload_corpus", ROOT / "tests" / "unit" / "uploads" / "conftest.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    samples = module.sample_upload_corpus()
    return samples, module.bad_upload_corpus(samples)


def plant_markers(base: str, people: list[Principal], sample_pdf: Any) -> None:
    """Each unit's first editor uploads one PDF named after a random marker."""
    for group in units(people):
        editor = next((p for p in group if p.role == "unit_editor"), None)
        if editor is None or not editor.ids("code"):
            continue
        marker = f"CANH-BAO-{secrets.token_hex(6).upper()}"
        response = editor.http.post(
            f"{base}/evidence/assessments/{editor.ids('assessment_id')[0]}/upload",
            data={
                "csrf_token": editor.token(base),
                "criterion_code": editor.ids("code")[0],
                "summary": f"Trích yếu {marker}",
            },
            files={
                "file": (f"Tài liệu {marker}.pdf", sample_pdf.data, "application/pdf")
            },
            headers=XHR,
            timeout=60,
        )
        if response.status_code == 200:
            evidence_id = response.json()["evidence"]["id"]
            for member in group:
                member.markers.append(marker)
                member.seen.setdefault("evidence_id", set()).add(evidence_id)


def run(
    base: str,
    users: list[tuple[str, str, str]],
    *,
    limit: int | None = None,
    crawl_limit: int = 150,
    out: Callable[[str], None] = print,
) -> list[Family]:
    """Run every family; ``limit`` caps the requests per family (the pytest version)."""
    base = base.rstrip("/")
    routes, roles = url_map()
    adapter = routes.bind("localhost")
    passwords = {u: p for u, p, _ in users}
    people = [login(base, u, p, r) for u, p, r in users]
    people.append(Principal("(khách)", "anonymous", requests.Session()))
    for who in people:
        if not who.is_anonymous:
            crawl(base, who, adapter, crawl_limit)
    samples, corpus = upload_corpus()
    plant_markers(base, people, samples["pdf"])
    out(
        "found: "
        + ", ".join(
            f"{who.username} {len(who.ids('assessment_id'))} assessments/"
            f"{len(who.ids('evidence_id'))} documents/{len(who.ids('code'))} leaves"
            for who in people
            if not who.is_anonymous
        )
    )
    families = [
        cross_unit(base, routes, adapter, people, limit),
        cross_role(base, routes, roles, adapter, people, limit),
        hostile_uploads(base, people, corpus, limit),
        forged_csrf(base, routes, adapter, people, limit),
        replayed_cookies(base, people, passwords),
    ]
    for family in families:
        out(family.line())
        for failure in family.failures:
            out(f"    NOT HELD {failure}")
    return families


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--password", help="one password for the demo users")
    parser.add_argument(
        "--users", type=Path, help="JSON list of {username, password, role}"
    )
    parser.add_argument("--limit", type=int, help="at most N requests per family")
    args = parser.parse_args(argv)
    if args.users:
        import json

        users = [
            (u["username"], u["password"], u["role"])
            for u in json.loads(args.users.read_text("utf-8"))
        ]
    elif args.password:
        users = [(name, args.password, role) for name, role in DEMO_USERS]
    else:
        parser.error("give --password (demo users) or --users FILE")
    families = run(args.base_url, users, limit=args.limit)
    return 0 if all(f.tried == f.held for f in families) else 1


if __name__ == "__main__":
    sys.exit(main())
