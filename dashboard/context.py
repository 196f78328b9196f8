"""What every page needs (the config and the store), and the cached queries pages run.

`app.py` builds an `AppContext` on each run and puts it in `st.session_state`; a page takes
it with `current()`. Query results are cached for a minute, keyed on the store's `key` and
the query's arguments; the store itself is never hashed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import streamlit as st
from elasticsearch import TransportError

from dashboard import data
from index.base import Store, StoreUnavailable
from nlp.corrections import CorrectionLog
from yuqing.schema import SHANGHAI, Annotations, Classification
from yuqing.settings import Config

logger = logging.getLogger(__name__)

CONTEXT_KEY = "yuqing_context"
QUERY_TTL_S = 60
# What a store raises when its backend cannot be reached mid-session (Elasticsearch down).
STORE_ERRORS = (StoreUnavailable, TransportError)


@dataclass(frozen=True)
class AppContext:
    config: Config
    store: Store
    key: str  # names the store in query caches: the config and data folders
    theme_names: Mapping[str, str] = field(default_factory=dict)  # theme id -> Chinese name

    @classmethod
    def build(cls, config: Config, store: Store, key: str) -> AppContext:
        names = {t.id: t.name for t in config.taxonomy.themes}
        return cls(config, store, key, names)


def set_current(context: AppContext) -> None:
    st.session_state[CONTEXT_KEY] = context


def current() -> AppContext:
    """The context `app.py` set up for this run."""
    return st.session_state[CONTEXT_KEY]


@st.cache_data(ttl=QUERY_TTL_S, show_spinner="Counting posts…")
def overview(
    _store: Store, store_key: str, since: date, until: date, theme_names: dict[str, str]
) -> data.Overview:
    return data.overview_frames(_store, since, until, theme_names)


@st.cache_data(ttl=QUERY_TTL_S, show_spinner="Searching…")
def search(
    _store: Store,
    store_key: str,
    text: str,
    themes: tuple[str, ...],
    sentiments: tuple[str, ...],
    page: int,
    page_size: int,
    theme_names: dict[str, str],
) -> data.SearchPage:
    return data.search_posts(_store, text, themes, sentiments, page, page_size, theme_names)


def record_correction(ctx: AppContext, post_id: str, themes: list[str], sentiment: str) -> None:
    """Store an officer's correction of a post's tags as labelled data."""
    post = ctx.store.get(post_id)
    if post is None:
        raise ValueError(f"post {post_id} is no longer in the store")
    log = CorrectionLog.in_data_dir(ctx.config.data_dir)
    log.record(post, themes, sentiment, ctx.config.taxonomy.theme_ids)
    # The store keeps the officer's labels on the post too, across re-crawls and migrations.
    previous = post.annotations or Annotations()
    labels = Classification(themes=themes, sentiment=sentiment, classifier="officer")
    ctx.store.annotate(
        post_id,
        previous.model_copy(update={"labels": labels, "updated_at": datetime.now(SHANGHAI)}),
    )
