"""What every page needs (config, store, records, the logged-in user), and the cached queries
pages run.

`app.py` builds an `AppContext` on each run and puts it in `st.session_state`; a page takes
it with `current()`. Query results are cached for a minute, keyed on the store's `key` and
the query's arguments; the store itself is never hashed. Cases, alerts and users are read
fresh each run: they are few, and an officer must see their own change at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import streamlit as st
from elasticsearch import TransportError

from dashboard import audit, data, trends
from dashboard.auth import User
from dashboard.filters import Filters
from index.base import Store, StoreUnavailable
from index.records import RecordStore
from nlp.corrections import CorrectionLog
from yuqing.routing import Departments
from yuqing.schema import SHANGHAI, Annotations, Classification
from yuqing.settings import Config

logger = logging.getLogger(__name__)

CONTEXT_KEY = "yuqing_context"
USER_KEY = "yuqing_user"
QUERY_TTL_S = 60
# What a store raises when its backend cannot be reached mid-session (Elasticsearch down).
STORE_ERRORS = (StoreUnavailable, TransportError)


@dataclass(frozen=True)
class AppContext:
    config: Config
    store: Store
    records: RecordStore
    departments: Departments
    key: str  # names the store in query caches: the config and data folders
    base_url: str  # the dashboard's own address, for links in exports and briefings
    user: User | None = None
    theme_names: Mapping[str, str] = field(default_factory=dict)  # theme id -> Chinese name

    @classmethod
    def build(
        cls,
        config: Config,
        store: Store,
        records: RecordStore,
        departments: Departments,
        key: str,
        base_url: str,
        user: User | None = None,
    ) -> AppContext:
        names = {t.id: t.name for t in config.taxonomy.themes}
        return cls(config, store, records, departments, key, base_url, user, names)

    @property
    def actor(self) -> User:
        """The logged-in user (pages run only after login)."""
        assert self.user is not None
        return self.user

    def can(self, role: str) -> bool:
        return self.user is not None and self.user.can(role)


def set_current(context: AppContext) -> None:
    st.session_state[CONTEXT_KEY] = context


def current() -> AppContext:
    """The context `app.py` set up for this run."""
    return st.session_state[CONTEXT_KEY]


@st.cache_data(ttl=QUERY_TTL_S, show_spinner="Counting posts…")
def overview_trends(
    _store: Store, store_key: str, since: date, until: date, theme_names: dict[str, str]
) -> trends.Trends:
    return trends.build(_store, since, until, theme_names)


@st.cache_data(ttl=QUERY_TTL_S, show_spinner="Searching…")
def search_filtered(
    _store: Store,
    store_key: str,
    filters: Filters,
    page: int,
    page_size: int,
    theme_names: dict[str, str],
) -> data.SearchPage:
    return data.search_posts(
        _store, page=page, page_size=page_size, theme_names=theme_names, filters=filters
    )


@st.cache_data(ttl=QUERY_TTL_S * 5, show_spinner=False)
def field_values(_store: Store, store_key: str, field_name: str, size: int = 200) -> list[str]:
    """The values of a field (units, source, platform, story_id) the store has, most first."""
    return [b.key for b in _store.top(None, field_name, size)]


def record_correction(ctx: AppContext, post_id: str, themes: list[str], sentiment: str) -> None:
    """Store an officer's correction of a post's tags as labelled data (officers and admins)."""
    from dashboard.auth import require

    require(ctx.user, "officer", "correct labels")
    post = ctx.store.get(post_id)
    if post is None:
        raise ValueError(f"post {post_id} is no longer in the store")
    log = CorrectionLog.in_data_dir(ctx.config.data_dir)
    log.record(post, themes, sentiment, ctx.config.taxonomy.theme_ids)
    audit.record(
        ctx.records, "label_correction", ctx.actor.name, post=post_id, themes=themes,
        sentiment=sentiment,
    )  # fmt: skip
    # The store keeps the officer's labels on the post too, across re-crawls and migrations.
    previous = post.annotations or Annotations()
    labels = Classification(themes=themes, sentiment=sentiment, classifier="officer")
    ctx.store.annotate(
        post_id,
        previous.model_copy(update={"labels": labels, "updated_at": datetime.now(SHANGHAI)}),
    )
