"""The dashboard's files: content types, ETags and 304s, security headers, traversal, no front end."""

from __future__ import annotations

import asyncio
import os
import tomllib
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from conftest import free_port, wait_until
from test_api import OWNER, build_world
from trilink.api import create_app
from trilink.api.routes_web import content_type, if_none_match, safe_parts
from trilink.web import static_dir

INDEX = b'<!doctype html><title>trilink</title><script type="module" src="/static/app.js"></script>\n'
FILES = {
    "index.html": INDEX,
    "app.js": b"export const x = 1;\n//# sourceMappingURL=app.js.map\n",
    "app.js.map": b'{"version": 3}',
    "css/app.css": b"body { margin: 0 }\n",
    "icons/home.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    "fonts/inter.woff2": b"wOF2\x00\x01binary",
    "manifest.webmanifest": b"{}",
    "favicon.ico": b"\x00\x00\x01\x00",
    "data.bin": b"\x00\x01",
    ".hidden": b"secret",
}
SECRET = b"outside the static directory"


def write_front_end(root: Path) -> None:
    for name, data in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture
def front_end(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    write_front_end(root)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (root / "link-out.txt").symlink_to(tmp_path / "secret.txt")
    return root


def app_for(root: Path) -> FastAPI:
    return create_app(build_world().hub, static_dir=root)


@pytest.fixture
async def web(front_end: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = app_for(front_end)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        yield client
    app.state.live.close()


def assert_secure_headers(r: httpx.Response, ws: str = "ws://hub") -> None:
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["connect-src"] == f"'self' {ws}"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


# ------------------------------------------------------------------ serving
async def test_the_dashboard_page_is_served_at_the_root(web: httpx.AsyncClient) -> None:
    r = await web.get("/")
    assert r.status_code == 200
    assert r.content == INDEX
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    etag = r.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert_secure_headers(r)
    assert "set-cookie" not in r.headers
    # no token needed for the page: it asks for one
    head = await web.head("/")
    assert head.status_code == 200 and head.headers["etag"] == etag


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.js.map", "application/json"),
        ("css/app.css", "text/css; charset=utf-8"),
        ("icons/home.svg", "image/svg+xml"),
        ("fonts/inter.woff2", "font/woff2"),
        ("manifest.webmanifest", "application/manifest+json"),
        ("favicon.ico", "image/x-icon"),
        ("index.html", "text/html; charset=utf-8"),
        ("data.bin", "application/octet-stream"),
    ],
)
async def test_files_have_their_content_types(web: httpx.AsyncClient, path: str, media_type: str) -> None:
    r = await web.get(f"/static/{path}")
    assert r.status_code == 200, r.text
    assert r.content == FILES[path]
    assert r.headers["content-type"] == media_type
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["etag"]
    assert_secure_headers(r)


def test_content_types_by_name() -> None:
    assert content_type("a/b/app.JS") == "text/javascript; charset=utf-8"
    assert content_type("x.mjs") == "text/javascript; charset=utf-8"
    assert content_type("x.woff") == "font/woff"
    assert content_type("x.png") == "image/png"
    assert content_type("x.unknown-thing") == "application/octet-stream"


async def test_an_etag_makes_a_reload_cheap(web: httpx.AsyncClient, front_end: Path) -> None:
    first = await web.get("/static/app.js")
    etag = first.headers["etag"]
    again = await web.get("/static/app.js")
    assert again.headers["etag"] == etag  # the same content, the same validator
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        r = await web.get("/static/app.js", headers={"If-None-Match": header})
        assert r.status_code == 304, header
        assert r.content == b""
        assert r.headers["etag"] == etag and r.headers["cache-control"] == "no-cache"
        assert_secure_headers(r)
    r = await web.get("/static/app.js", headers={"If-None-Match": '"stale"'})
    assert r.status_code == 200 and r.content == FILES["app.js"]
    # a changed file has a new validator at once, without a restart
    (front_end / "app.js").write_bytes(b"export const x = 2;\n")
    os.utime(front_end / "app.js", ns=(1, 1))
    r = await web.get("/static/app.js", headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.content == b"export const x = 2;\n"
    assert r.headers["etag"] != etag
    index = await web.get("/")
    r = await web.get("/", headers={"If-None-Match": index.headers["etag"]})
    assert r.status_code == 304


def test_if_none_match_parsing() -> None:
    assert if_none_match('"a"', '"a"') and if_none_match('W/"a"', '"a"')
    assert if_none_match(' "b" , "a" ', '"a"') and if_none_match("*", '"a"')
    assert (
        not if_none_match(None, '"a"') and not if_none_match('"ab"', '"a"') and not if_none_match("", '"a"')
    )


async def test_the_policy_names_the_websocket_of_the_same_host(front_end: Path) -> None:
    app = app_for(front_end)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://hub.lan:8443"
    ) as c:
        r = await c.get("/")
        assert_secure_headers(r, ws="wss://hub.lan:8443")
        # a Host that is not a plain host name is left out of the policy, not copied into it
        r = await c.get("/", headers={"Host": "evil.example; script-src *"})
        csp = r.headers["content-security-policy"]
        assert "evil" not in csp and "connect-src 'self';" in csp
    app.state.live.close()


# ----------------------------------------------------------------- not found
TRAVERSALS = [
    "../secret.txt",
    "css/../../secret.txt",
    "/etc/passwd",
    "//etc/passwd",
    "..",
    "../",
    ".hidden",
    "css/../.hidden",
    "css",
    "css/",
    "",
    "icons//home.svg",
    "./app.js",
    "..\\secret.txt",
    "css\\..\\..\\secret.txt",
    "C:/Windows/win.ini",
    "%2e%2e/secret.txt",
    "app.js\x00.png",
    "link-out.txt",
    "nope.js",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_paths_outside_the_directory_are_not_found(front_end: Path, path: str) -> None:
    """Called with the decoded path the server hands to the app (httpx would normalise the URL)."""
    app = app_for(front_end)
    status, headers, body = await raw_asgi_get(app, "/static/" + path)
    app.state.live.close()
    assert status == 404, (path, body)
    assert SECRET not in body and b"secret" not in body
    assert headers["x-content-type-options"] == "nosniff"


def test_safe_parts() -> None:
    assert safe_parts("css/app.css") == ("css", "app.css")
    for bad in ["", "/x", "a//b", "a/../b", "a/./b", ".git/config", "a\\b", "c:x", "a%2e", "a\nb", "a\x7fb"]:
        assert safe_parts(bad) is None, bad


async def raw_asgi_get(app: FastAPI, path: str) -> tuple[int, dict[str, str], bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"hub")],
        "client": ("127.0.0.1", 5000),
        "server": ("hub", 80),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return int(start["status"]), headers, body


@pytest.fixture
async def served(front_end: Path) -> AsyncIterator[str]:
    """The app on a real server, so raw request lines go through its URL decoding."""
    app = app_for(front_end)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: server.started or task.done(), what="the server to start")
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def raw_http_get(address: str, target: str) -> tuple[int, bytes]:
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode("latin-1"))
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()
    status_line, _, _ = data.partition(b"\r\n")
    return int(status_line.split()[1]), data


@pytest.mark.parametrize(
    "target",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E%2Fsecret.txt",
        "/static/css/%2e%2e/%2e%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/%252e%252e/secret.txt",
        "/static/%2fetc%2fpasswd",
        "/static//etc/passwd",
        "/static/%00",
        "/static/.hidden",
        "/static/%2ehidden",
        "/static/link-out.txt",
    ],
)
async def test_encoded_traversals_over_the_wire_are_not_found(served: str, target: str) -> None:
    status, data = await raw_http_get(served, target)
    assert status == 404, data
    assert SECRET not in data and b"secret\r\n" not in data


async def test_a_real_server_serves_the_files(served: str) -> None:
    status, data = await raw_http_get(served, "/static/css/app.css")
    assert status == 200 and data.endswith(FILES["css/app.css"])
    assert b"content-type: text/css; charset=utf-8" in data.lower()


# ------------------------------------------------------------ no front end
@pytest.mark.parametrize("state", ["missing", "empty", "no-index"])
async def test_without_a_front_end_the_root_explains_and_the_api_works(tmp_path: Path, state: str) -> None:
    root = tmp_path / "static"
    if state != "missing":
        root.mkdir()
    if state == "no-index":
        (root / "app.js").write_bytes(b"1")
    app = app_for(root)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as c:
        r = await c.get("/")
        assert r.status_code == 503
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert "dashboard is not installed" in r.text and "/api" in r.text
        assert r.headers["cache-control"] == "no-store"
        assert_secure_headers(r)
        assert (await c.get("/static/index.html")).status_code == 404
        assert (await c.get("/api/status", headers=OWNER)).status_code == 200
        # the front end appears: served at once, no restart needed
        write_front_end(root)
        r = await c.get("/")
        assert r.status_code == 200 and r.content == INDEX
    app.state.live.close()


async def test_unknown_paths_outside_static_keep_the_apis_answer(web: httpx.AsyncClient) -> None:
    r = await web.get("/index.html")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not-found"
    r = await web.post("/")
    assert r.status_code == 405


# ---------------------------------------------------------------- packaging
def test_the_packaged_directory_is_the_web_packages_static_folder() -> None:
    root = static_dir()
    assert root.name == "static" and root.parent.name == "web" and root.parent.parent.name == "trilink"


async def test_the_default_app_serves_the_packaged_front_end_or_explains() -> None:
    app = create_app(build_world().hub)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as c:
        r = await c.get("/")
    app.state.live.close()
    expected = 200 if (static_dir() / "index.html").is_file() else 503
    assert r.status_code == expected
    assert_secure_headers(r)


def test_the_static_files_are_package_data() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text("utf-8"))
    assert "static/**/*" in pyproject["tool"]["setuptools"]["package-data"]["trilink.web"]
