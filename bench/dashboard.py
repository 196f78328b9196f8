"""Dashboard bench: the overview and a search through the same plain functions the pages call,
against raw Elasticsearch requests for the same numbers, on one large index, in one run.

    .venv/bin/python bench/dashboard.py [--posts 1000000] [--es-url http://127.0.0.1:9201]
                                        [--runs 20] [--workers N] [--json]

Run it on a node of its own, not the shared test node (512 MB heap), e.g.

    ES_HEAP=2g ES_PORT=9201 ES_TRANSPORT_PORT=9301 ES_STATE_DIR=/tmp/es-bench \\
        ES_NODE_NAME=bench bash scripts/elasticsearch.sh start     # … stop afterwards

Posts come from bench/generate.py and are loaded with bench/index.py's `scale_load` (raw
`_bulk`, documents built by worker processes). Then, each run on another 60-day window (so
Elasticsearch's request cache never answers), timed after warm-ups:

- overview: `dashboard.trends.build` (the Overview page's queries: trend by day × theme ×
  sentiment and by day × sentiment, the period before, top units, platforms, hot words and
  stories, one trend line per top unit and platform, the stories' newest posts) plus the
  cases and alerts counts from the records index (50 cases, 20 alerts);
  baseline: one raw `_msearch` with the same aggregations (three searches: this period with
  every aggregation nested, the period before, and the stories' newest posts).
- search: `dashboard.data.search_posts` (a word + theme + sentiment + 30 days, page 1 of 10)
  against the raw `_search` of the same body, without building posts and snippets.

Goals: overview p95 < 2 s, search p95 < 1 s. Every index the bench creates is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from elasticsearch import Elasticsearch  # noqa: E402

from bench.generate import PostGenerator  # noqa: E402
from bench.index import Indices, log, percentile, scale_load  # noqa: E402
from dashboard import alert_desk as alerts  # noqa: E402
from dashboard import cases, trends  # noqa: E402
from dashboard.data import midnight, search_posts  # noqa: E402
from dashboard.filters import Filters  # noqa: E402
from index.base import SearchQuery, query_terms  # noqa: E402
from index.es_queries import day_aggs, es_query, page, top_agg  # noqa: E402
from index.es_store import ElasticsearchStore  # noqa: E402
from index.records import ElasticsearchRecords  # noqa: E402
from yuqing.services import segmenter_for  # noqa: E402
from yuqing.settings import load_config  # noqa: E402

GOALS_MS = {"overview": 2000.0, "search": 1000.0}
RANGE_DAYS = 60
WARMUP = 3


def fill_records(records: ElasticsearchRecords, end: date) -> None:
    """A working office's records: 50 cases (some overdue) and 20 alerts."""
    statuses = cases.STATUSES
    for i in range(50):
        due = end - timedelta(days=i % 20 - 5)
        records.put(
            "case", f"C{i}", {"id": f"C{i}", "status": statuses[i % 5], "due": due.isoformat()}
        )
    for i in range(20):
        records.put("alert", f"A{i}", {"id": f"A{i}", "status": alerts.STATUSES[i % 3]})


def raw_overview(client: Elasticsearch, index: str, since: date, until: date) -> Any:
    """The overview's numbers in one `_msearch`: what Elasticsearch itself needs."""
    now = SearchQuery(since=midnight(since), until=midnight(until))
    before = SearchQuery(since=midnight(since - (until - since)), until=midnight(since))
    by_sentiment = day_aggs(now, by_theme=False)["day"]
    aggs = {
        **day_aggs(now, by_theme=True),
        "day_sentiment": by_sentiment,
        "units": {**top_agg("units", trends.TOP_UNITS), "aggs": {"day": by_sentiment}},
        "platforms": {**top_agg("platform", trends.TOP_PLATFORMS), "aggs": {"day": by_sentiment}},
        "words": top_agg("words", trends.TOP_WORDS),
        "stories": {
            **top_agg("story_id", trends.TOP_STORIES),
            "aggs": {
                "newest": {
                    "top_hits": {"size": 1, "sort": [{"date": "desc"}], "_source": ["title"]}
                }
            },
        },
    }
    body = [
        {"index": index}, {"size": 0, "query": es_query(now, []), "aggs": aggs},
        {"index": index}, {"size": 0, "query": es_query(before, []),
                           "aggs": {"day": by_sentiment}},
    ]  # fmt: skip
    return client.msearch(searches=body)


def timed(calls: list, warmup: int) -> dict[str, float]:
    for call in calls[:warmup]:
        call()
    times = []
    for call in calls[warmup:]:
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "max": max(times),
        "runs": len(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--es-url", default="http://127.0.0.1:9201")
    parser.add_argument(
        "--runs", type=int, default=20, help=f"timed runs each, after {WARMUP} warm-ups"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    config = load_config(ROOT / "configs", environ={"YUQING_PSEUDONYM_KEY": "bench"})
    segmenter = segmenter_for(config)
    names = {t.id: t.name for t in config.taxonomy.themes}
    gen = PostGenerator(config.taxonomy, seed=args.seed)
    rng = random.Random(args.seed + 7)
    n = args.runs + WARMUP
    # Windows ending on distinct days, each with its own search, so no request is repeated.
    ends = [
        gen.end + timedelta(days=1) - timedelta(days=d)
        for d in rng.sample(range(gen.days - 2 * RANGE_DAYS), n)
    ]
    grievances = [t for t in gen.themes if t != "other"]
    searches = []
    for end in ends:
        theme = rng.choice(grievances)
        searches.append(Filters(
            text=rng.choice(gen.keywords[theme]), themes=(theme,), sentiments=("negative",),
            since=(end - timedelta(days=30)).isoformat(), until=end.isoformat(),
        ))  # fmt: skip

    r: dict[str, Any] = {
        "posts": args.posts,
        "runs": args.runs,
        "load average at start": os.getloadavg()[0],
    }
    client = Elasticsearch(args.es_url, request_timeout=600)
    es = Indices(client, segmenter)
    try:
        client.cluster.health(wait_for_status="yellow", timeout="30s")
        info = client.nodes.stats(metric="jvm")["nodes"]
        r["es heap MB"] = [v["jvm"]["mem"]["heap_max_in_bytes"] // 2**20 for v in info.values()]
        log(f"loading {args.posts:,} posts into {args.es_url} ...")
        index, r["load"] = scale_load(es, args.es_url, gen, segmenter, args.posts, args.workers)
        store = ElasticsearchStore(client, index, segmenter)
        records = ElasticsearchRecords(client, f"{index}-records")
        es.names.append(f"{index}-records")
        records.setup()
        fill_records(records, gen.end)

        def overview(end: date):
            since = end - timedelta(days=RANGE_DAYS)
            return lambda: (
                trends.build(store, since, end, names),
                cases.counts(records, end),
                alerts.active_count(records),
            )

        def overview_raw(end: date):
            return lambda: (
                raw_overview(client, index, end - timedelta(days=RANGE_DAYS), end),
                client.search(
                    index=records.index, size=500, query={"terms": {"kind": ["case", "alert"]}}
                ),
            )

        def search(f: Filters):
            return lambda: search_posts(store, page=1, page_size=10, theme_names=names, filters=f)

        def search_raw(f: Filters):
            q = f.query(limit=10)
            body = {"query": es_query(q, query_terms(q.text, segmenter)), **page(q)}
            return lambda: client.search(index=index, source_excludes=["seg", "seg_fine"], **body)

        log("timing the overview and search ...")
        r["overview (dashboard.trends.build + records)"] = timed(
            [overview(e) for e in ends], WARMUP
        )
        r["overview baseline (raw _msearch)"] = timed([overview_raw(e) for e in ends], WARMUP)
        r["search (dashboard.data.search_posts)"] = timed([search(f) for f in searches], WARMUP)
        r["search baseline (raw _search)"] = timed([search_raw(f) for f in searches], WARMUP)
        hits = [search_posts(store, filters=f, page_size=10).total for f in searches[WARMUP:]]
        r["search mean matches"] = sum(hits) / len(hits)
        r["overview posts in a 60-day window"] = trends.build(
            store, ends[0] - timedelta(days=RANGE_DAYS), ends[0]
        ).base.total
    finally:
        es.drop_all()
        client.close()
    r["load average at end"] = os.getloadavg()[0]
    r["goals (p95 ms)"] = GOALS_MS
    r["met"] = {
        "overview": r["overview (dashboard.trends.build + records)"]["p95"] < GOALS_MS["overview"],
        "search": r["search (dashboard.data.search_posts)"]["p95"] < GOALS_MS["search"],
    }
    if args.json:
        print(json.dumps(r, indent=2, ensure_ascii=False))
        return
    print(f"\n{args.posts:,} posts; {os.cpu_count()} CPUs; heap {r['es heap MB']} MB; load "
          f"{r['load average at start']:.1f} → {r['load average at end']:.1f}")  # fmt: skip
    print(f"load: {r['load']['docs/s']:,.0f} docs/s, {r['load']['size MB']:,.0f} MB")
    for key, value in r.items():
        if isinstance(value, dict) and "p95" in value:
            print(
                f"  {key:46} p50 {value['p50']:8.1f} ms   p95 {value['p95']:8.1f} ms   ({value['runs']} runs)"
            )
    print(
        f"  goals: overview p95 < 2000 ms: {r['met']['overview']}; search p95 < 1000 ms: {r['met']['search']}"
    )


if __name__ == "__main__":
    main()
