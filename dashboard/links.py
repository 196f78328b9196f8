"""Links into the dashboard, for briefings, alerts and exports: a post, a search."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import quote

from yuqing.settings import Config

URL_ENV = "YUQING_DASHBOARD_URL"


def base_url(config: Config, environ: Mapping[str, str] = os.environ) -> str:
    """Where officers open the dashboard: YUQING_DASHBOARD_URL, else dashboard.host:port."""
    if environ.get(URL_ENV):
        return environ[URL_ENV].rstrip("/")
    dash = config.settings.dashboard
    return f"http://{dash.host}:{dash.port}"


def post_url(base: str, post_id: str) -> str:
    return f"{base.rstrip('/')}/post?post={quote(post_id)}"
