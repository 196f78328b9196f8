"""Typed, validated configuration: `configs/settings.yaml`, `sources.yaml`, `taxonomy.yaml`
and `units.yaml` (the models of `sources.yaml` and `units.yaml` live in `yuqing.sources` and
`yuqing.watchlist`).

`load_config(config_dir)` reads them all and raises `ConfigError` with the file, the key,
what was wrong and how to fix it. Environment variables are read here, at the edge, and
nowhere deeper: `YUQING_PSEUDONYM_KEY` (the author-hash key) and the overrides the CLI passes.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yuqing.config_errors import ConfigError, load_model
from yuqing.schema import SENTIMENTS, TRACKING_PARAMS
from yuqing.sources import Source, SourcesFile, load_sources
from yuqing.watchlist import Watchlist, load_watchlist

__all__ = ["Config", "Settings", "Source", "SourcesFile", "Taxonomy", "Watchlist", "load_config"]

logger = logging.getLogger(__name__)

PSEUDONYM_KEY_ENV = "YUQING_PSEUDONYM_KEY"
DEV_PSEUDONYM_KEY = "yuqing-dev-key-change-me"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- settings.yaml -----------------------------------------------------------------------


class ElasticsearchSettings(_Strict):
    url: str = "http://127.0.0.1:9200"
    index: str = "yuqing-posts"
    request_timeout: float = Field(30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:9200")
        return v.rstrip("/")

    @field_validator("index")
    @classmethod
    def _index_name(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", v):
            raise ValueError("must be lowercase letters, digits, '.', '_' or '-'")
        return v


class StoreSettings(_Strict):
    backend: Literal["sqlite", "elasticsearch"] = "sqlite"
    elasticsearch: ElasticsearchSettings = Field(default_factory=ElasticsearchSettings)
    retention_days: int | None = Field(None, ge=1)  # `yuqing index purge`; None keeps posts forever


class CrawlSettings(_Strict):
    user_agent: str = "YuqingBot/0.1 (public-opinion monitoring; obeys robots.txt)"
    download_delay: float = Field(1.0, ge=0)
    concurrent_requests_per_domain: int = Field(2, ge=1, le=16)
    autothrottle_start_delay: float = Field(2.0, ge=0)
    autothrottle_max_delay: float = Field(30.0, gt=0)
    autothrottle_target_concurrency: float = Field(1.0, gt=0)
    retry_times: int = Field(3, ge=0)
    retry_backoff: float = Field(1.0, ge=0)  # first retry's delay; doubles on each retry
    retry_backoff_max: float = Field(60.0, ge=0)  # longest delay, Retry-After included
    max_pages_per_source: int = Field(500, ge=1)
    max_page_bytes: int = Field(5_000_000, ge=1024)  # larger pages are quarantined (oversize)
    incremental: bool = True  # stop paging where a list page holds only known, older posts
    recheck_days: int = Field(7, ge=0)  # revisit known posts published this recently
    batch_posts: int = Field(50, ge=1)  # a spool batch closes after this many posts …
    batch_seconds: float = Field(30.0, gt=0)  # … or with the first post after this many seconds
    tracking_params: list[str] = Field(default_factory=lambda: list(TRACKING_PARAMS))
    deleted_markers: list[str] = Field(
        default_factory=lambda: ["该帖已被删除", "内容已删除", "帖子已删除", "该信息已被删除"]
    )
    redis_url: str | None = None  # distributed mode: the Redis that holds the shared queue


class DemoSiteSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    seed: int = 7

    @field_validator("host")
    @classmethod
    def _loopback(cls, v: str) -> str:
        if not (v.startswith("127.") or v in ("localhost", "::1")):
            raise ValueError("the demo site serves on loopback only (127.0.0.1)")
        return v


class DashboardSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8501, ge=1, le=65535)


class ClassifierSettings(_Strict):
    kind: Literal["lexicon", "linear", "transformer"] = "lexicon"
    model_dir: Path | None = None
    batch_size: int = Field(64, ge=1, le=4096)
    precision: Literal["auto", "fp32", "bf16", "int8"] = "auto"
    # transformer only: add the themes the lexicon finds that the model does not rule out
    lexicon_assist: bool = True

    @model_validator(mode="after")
    def _trained_needs_model(self) -> ClassifierSettings:
        if self.kind != "lexicon" and self.model_dir is None:
            raise ValueError(
                f"a {self.kind} classifier needs `model_dir`: the folder `yuqing train` wrote"
            )
        return self


class Settings(_Strict):
    data_dir: Path = Path("data")
    store: StoreSettings = Field(default_factory=StoreSettings)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    demo_site: DemoSiteSettings = Field(default_factory=DemoSiteSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)


# --- taxonomy.yaml -----------------------------------------------------------------------


class Theme(_Strict):
    id: str
    name: str
    description: str = ""
    keywords: dict[str, float] = Field(default_factory=dict)
    patterns: dict[str, float] = Field(default_factory=dict)  # regex -> weight

    @field_validator("keywords", "patterns")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, w in v.items() if w <= 0]
        if bad:
            raise ValueError(f"keyword weights must be > 0; fix {', '.join(bad)}")
        return v

    @field_validator("patterns")
    @classmethod
    def _regex(cls, v: dict[str, float]) -> dict[str, float]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {e}") from e
        return v


class SentimentLexicon(_Strict):
    labels: list[str] = Field(default_factory=lambda: list(SENTIMENTS))
    negative: dict[str, float] = Field(default_factory=dict)
    positive: dict[str, float] = Field(default_factory=dict)
    negations: list[str] = Field(default_factory=list)
    degree: dict[str, float] = Field(default_factory=dict)
    threshold: float = Field(1.0, gt=0)
    # Optional language cues of the lexicon classifier; None keeps its built-in lists.
    irrealis: list[str] | None = None
    neutral_cues: list[str] | None = None
    sarcasm: list[str] | None = None
    courtesy: list[str] | None = None
    grievance_prior: float | None = Field(None, ge=0)

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: list[str]) -> list[str]:
        if sorted(v) != sorted(SENTIMENTS):
            raise ValueError(f"must be exactly {list(SENTIMENTS)}")
        return v


class Taxonomy(_Strict):
    themes: list[Theme] = Field(min_length=2)
    fallback: str = "other"
    theme_threshold: float = Field(2.0, gt=0)
    max_themes: int = Field(3, ge=1)
    sentiment: SentimentLexicon

    @model_validator(mode="after")
    def _check(self) -> Taxonomy:
        ids = [t.id for t in self.themes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"theme ids must be unique; repeated: {', '.join(dupes)}")
        if self.fallback not in ids:
            raise ValueError(f"`fallback` theme {self.fallback!r} is not among the theme ids")
        return self

    @property
    def theme_ids(self) -> list[str]:
        return [t.id for t in self.themes]


# --- loading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """Everything the app reads from configs/ and the environment, validated."""

    config_dir: Path
    settings: Settings
    sources: list[Source]
    taxonomy: Taxonomy
    pseudonym_key: bytes
    watchlist: Watchlist | None = None  # units.yaml; None when there is none

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


_warned: set[str] = set()


def _warn_once(message: str, *args: object) -> None:
    if message not in _warned:
        _warned.add(message)
        logger.warning(message, *args)


def pseudonym_key_from_env(environ: dict[str, str] | None = None) -> bytes:
    env = os.environ if environ is None else environ
    key = env.get(PSEUDONYM_KEY_ENV, "")
    if not key:
        _warn_once(
            "%s is not set: author handles are hashed with the public development key. "
            "Set it to a long random secret in production.",
            PSEUDONYM_KEY_ENV,
        )
        key = DEV_PSEUDONYM_KEY
    return key.encode("utf-8")


def load_settings(config_dir: Path) -> Settings:
    path = config_dir / "settings.yaml"
    settings = load_model(path, Settings)
    # Relative paths are relative to the project root (the folder holding configs/), not the cwd.
    root = config_dir.resolve().parent
    settings.data_dir = (root / settings.data_dir).resolve()
    if settings.classifier.model_dir is not None:
        settings.classifier.model_dir = (root / settings.classifier.model_dir).resolve()
    return settings


def demo_site_url(settings: Settings) -> str:
    return f"http://{settings.demo_site.host}:{settings.demo_site.port}"


def load_config(
    config_dir: Path | str = "configs",
    *,
    data_dir: Path | str | None = None,
    demo_url: str | None = None,
    environ: dict[str, str] | None = None,
) -> Config:
    """Load and validate configs/, applying the CLI's overrides."""
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigError(
            config_dir,
            ["config folder not found. Fix: run from the project root or pass --config-dir PATH."],
        )
    settings = load_settings(config_dir)
    if data_dir is not None:
        settings.data_dir = Path(data_dir).resolve()
    watchlist = load_watchlist(config_dir)
    sources = load_sources(config_dir, demo_url or demo_site_url(settings), watchlist)
    taxonomy = load_model(config_dir / "taxonomy.yaml", Taxonomy)
    key = pseudonym_key_from_env(environ)
    return Config(config_dir, settings, sources, taxonomy, key, watchlist)
