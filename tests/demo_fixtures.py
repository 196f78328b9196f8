"""The demo site served on 127.0.0.1 for a crawl test, and a config copy pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from yuqing import demosite


@contextmanager
def served_demo(seed: int = 11) -> Iterator[tuple[demosite.DemoCorpus, demosite.DemoServer, str]]:
    """(corpus, server, base URL) of a demo site running until the block ends."""
    corpus = demosite.generate(seed=seed)
    server, base_url = demosite.serve_in_thread(corpus)
    try:
        yield corpus, server, base_url
    finally:
        server.shutdown()
        server.server_close()


def point_at(config_dir: Path, base_url: str) -> None:
    """Make the config copy's `{demo_site}` the served site."""
    port = base_url.rsplit(":", 1)[1]
    settings = config_dir / "settings.yaml"
    text = settings.read_text(encoding="utf-8").replace("port: 8765", f"port: {port}")
    settings.write_text(text, encoding="utf-8")
