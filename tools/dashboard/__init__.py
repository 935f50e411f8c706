"""The live dashboard of a devnet, a node and a smeshing service (docs/dashboard.md).

One static page (``static/index.html`` with its script and style sheet; no build step), served
at ``/dashboard`` by every node's API server (tools/node/api.py) and by every smeshing
service's status server (tools/node/smesher_api.py). The page polls the documented APIs of the
nodes and services it is given and draws what they answer: every number on it is an API
answer, so the page's script is also a worked example of those APIs.
"""

from __future__ import annotations

import re
from importlib import resources

CONTENT_TYPES = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
                 "css": "text/css; charset=utf-8", "svg": "image/svg+xml"}
ASSET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,40}\.(html|js|css|svg)")


def asset(name: str) -> tuple[bytes, str] | None:
    """(content, content type) of one of the page's files; None for any other name."""
    match = ASSET_NAME.fullmatch(name)
    if match is None:
        return None
    path = resources.files(__name__).joinpath("static", name)
    if not path.is_file():
        return None
    return path.read_bytes(), CONTENT_TYPES[match.group(1)]


def page_url(base: str, nodes: list[str], smeshers: list[str]) -> str:
    """The dashboard's address on the server at `base`, naming the node APIs and smeshing-service
    status servers it shows (the page reads them from its fragment)."""
    fragment = "&".join(part for part in (
        "nodes=" + ",".join(nodes) if nodes else "", "smeshers=" + ",".join(smeshers) if smeshers else "") if part)
    return f"{base}/dashboard" + (f"#{fragment}" if fragment else "")
