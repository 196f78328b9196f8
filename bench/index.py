"""Index benches: bulk throughput of Yuqing's Elasticsearch writer against raw `_bulk`, and
dashboard query latency on a large Elasticsearch index and on SQLite, in one run.

    .venv/bin/python bench/index.py --quick                 # smoke run: 20k / 5k / 5k posts
    .venv/bin/python bench/index.py [--posts 1000000] [--bulk-posts 50000] [--sqlite-posts 100000]
                                    [--es-url URL] [--runs 50] [--json]

Posts come from bench/generate.py (seeded, no outside data). Documents are `to_document`'s
output, built once with generate.CachingSegmenter (identical to plain jieba; checked on a
sample every run); plain `to_document` is timed on its own line, as segmentation is a
separate cost from indexing.

1. Bulk: the same documents, the writer's chunk size (500), each side into a fresh index made
   by the store's own `setup()` (its mapping), refresh_interval -1: `ElasticsearchStore.upsert`
   (its `to_document` swapped for a lookup of the precomputed document, all else as in
   production), raw NDJSON over http.client with the writer's actions (update, doc_as_upsert),
   and raw `index` actions. Best of --repeat runs, sides in turn.
2. Scale: --posts documents through raw `_bulk` index actions (the fast path: worker processes
   build the NDJSON in memory first, ~2 KB a document, so the rate is the node's), then the
   dashboard's queries, each --runs times after a warm-up, each run on another window so the
   request cache never answers: search (a word + theme + sentiment, 30 days, 20 hits),
   overview (counts_by_day by theme and by sentiment + top units + top sources, 60 days) and
   hot words (top words, 30 days).
3. The same queries on SQLite loaded with --sqlite-posts posts through `SqliteStore.upsert`.

Every index the bench creates is deleted at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
# The project root first, and not bench/: this file's name would hide the `index` package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from elasticsearch import Elasticsearch  # noqa: E402

import index.es_store as es_store  # noqa: E402
from bench.generate import CachingSegmenter, PostGenerator, check  # noqa: E402
from index.base import SearchQuery, Store, to_document  # noqa: E402
from index.sqlite_store import SqliteStore  # noqa: E402
from nlp.segment import Segmenter  # noqa: E402
from yuqing.schema import SHANGHAI, Post  # noqa: E402
from yuqing.services import segmenter_for  # noqa: E402
from yuqing.settings import load_config  # noqa: E402

CHUNK = 500  # the writer's chunk size where the store does not say (ElasticsearchStore.chunk_size)
GOALS = {"search": 300.0, "overview": 1000.0}  # p95, ms
PREFIX = f"yuqing-bench-{os.getpid()}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def dumps(obj: Any) -> bytes:
    """JSON as the Elasticsearch client serialises it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


# --- documents -------------------------------------------------------------------------------


def documents(
    gen: PostGenerator, segmenter: Segmenter, n: int, sample: int
) -> tuple[list[Post], list[dict], dict]:
    start = time.perf_counter()
    posts = list(gen.posts(n))
    generated = time.perf_counter() - start
    cached = CachingSegmenter(segmenter)
    start = time.perf_counter()
    docs = [to_document(p, cached) for p in posts]
    built = time.perf_counter() - start
    sample_posts = posts[:sample]
    start = time.perf_counter()
    for post in sample_posts:
        to_document(post, segmenter)
    plain = time.perf_counter() - start
    same = check(sample_posts, segmenter)
    if same != len(sample_posts):
        raise SystemExit(f"CachingSegmenter differs from jieba on {len(sample_posts) - same} posts")
    return (
        posts,
        docs,
        {
            "generate posts/s": rate(n, generated),
            "to_document docs/s (jieba)": rate(len(sample_posts), plain),
            "to_document docs/s (clause cache)": rate(n, built),
            "sample identical": f"{same}/{len(sample_posts)}",
        },
    )


# --- Elasticsearch plumbing ------------------------------------------------------------------


class RawBulk:
    """POST NDJSON to /_bulk over one keep-alive connection per thread."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 9200
        self._local = threading.local()

    def post(self, body: bytes, query: str = "") -> dict[str, Any]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        conn.request("POST", "/_bulk" + query, body, {"Content-Type": "application/x-ndjson"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"_bulk answered {resp.status}: {data[:500]!r}")
        result = json.loads(data)
        if result.get("errors"):
            failed = [i for i in result["items"] if next(iter(i.values())).get("error")]
            raise RuntimeError(f"{len(failed)} document(s) failed to index: {failed[:3]}")
        return result


def raw_lines(index: str, doc: dict, op: str) -> bytes:
    if op == "update":
        meta = {"update": {"_index": index, "_id": doc["id"], "retry_on_conflict": 3}}
        return dumps(meta) + b"\n" + dumps({"doc": doc, "doc_as_upsert": True}) + b"\n"
    return dumps({"index": {"_index": index, "_id": doc["id"]}}) + b"\n" + dumps(doc) + b"\n"


class Indices:
    """Indices made by the store's own setup(); every one is deleted by drop_all()."""

    def __init__(self, client: Elasticsearch, segmenter: Segmenter):
        self.client, self.segmenter, self.names = client, segmenter, []

    def fresh(self, suffix: str) -> es_store.ElasticsearchStore:
        name = f"{PREFIX}-{suffix}"
        self.drop(name)
        self.names.append(name)
        store = es_store.ElasticsearchStore(self.client, name, self.segmenter)
        store.setup()
        self.client.indices.put_settings(index=name, settings={"index": {"refresh_interval": "-1"}})
        return store

    def drop(self, name: str) -> None:
        concrete = self.client.indices.get(index=f"{name}*", expand_wildcards="all")
        for index in concrete:
            self.client.indices.delete(index=index, ignore_unavailable=True)

    def drop_all(self) -> None:
        for name in self.names:
            try:
                self.drop(name)
            except Exception as e:  # keep cleaning; say what was left behind
                print(f"could not delete {name}*: {e}", file=sys.stderr)

    def finish(self, name: str, expect: int) -> None:
        self.client.indices.refresh(index=name)
        found = self.client.count(index=name)["count"]
        if found != expect:
            raise RuntimeError(f"{name}: {found} documents indexed, expected {expect}")


@contextmanager
def precomputed(docs: list[dict]) -> Iterator[list[int]]:
    """Make the writer's `to_document` a lookup (of a copy: the writer may reshape it)."""
    by_id = {d["id"]: d for d in docs}
    calls = [0]
    original = getattr(es_store, "to_document", None)
    if original is None:
        raise SystemExit("index.es_store no longer calls to_document: update bench/index.py")

    def lookup(post: Post, _segmenter: object) -> dict:
        calls[0] += 1
        return dict(by_id[post.id])

    es_store.to_document = lookup  # type: ignore[attr-defined]
    try:
        yield calls
    finally:
        es_store.to_document = original  # type: ignore[attr-defined]


def as_sent(store: es_store.ElasticsearchStore, posts: list[Post], docs: list[dict]) -> list[dict]:
    """The documents as the writer sends them (it wraps `classification`, for one): the raw
    sides send these, so both index the same documents."""
    actions = getattr(store, "_actions", None)
    if actions is None:
        return docs
    with precomputed(docs):
        return [a.get("doc", a.get("_source")) for a in actions(posts)]


def bulk_bench(es: Indices, url: str, posts: list[Post], docs: list[dict], repeat: int) -> dict:
    raw = RawBulk(url)
    probe = es.fresh("probe")
    chunk = getattr(probe, "chunk_size", CHUNK)
    sent = as_sent(probe, posts, docs)
    es.drop(probe.index)

    def writer(store: es_store.ElasticsearchStore, batch: list[Post], _docs: list[dict]) -> None:
        requests = [0]
        bulk = store.client.bulk

        def counted(*args: Any, **kwargs: Any) -> Any:
            requests[0] += 1
            return bulk(*args, **kwargs)

        store.client.bulk = counted  # type: ignore[method-assign]
        try:
            with precomputed(_docs) as calls:
                result = store.upsert(batch)
        finally:
            del store.client.bulk
        if calls[0] != len(batch) or result.created != len(batch):
            raise RuntimeError(
                f"writer: {calls[0]} lookups, {result.created} created of {len(batch)}"
            )
        if (
            requests[0]
            and abs(len(batch) / requests[0] - chunk) > chunk * 0.1
            and len(batch) > 4 * chunk
        ):
            print(f"note: the writer sent chunks of ~{len(batch) / requests[0]:.0f}, not {chunk}")

    def raw_side(op: str) -> Callable[..., None]:
        def run(store: es_store.ElasticsearchStore, _batch: list[Post], _docs: list[dict]) -> None:
            as_writer = sent if _docs is docs else sent[: len(_docs)]
            for i in range(0, len(as_writer), chunk):
                raw.post(b"".join(raw_lines(store.index, d, op) for d in as_writer[i : i + chunk]))

        return run

    sides = {
        "Yuqing writer (upsert)": writer,
        "raw _bulk, same update actions": raw_side("update"),
        "raw _bulk, index actions": raw_side("index"),
    }
    for side in sides.values():  # warm up the node and the client on each path
        store = es.fresh("warmup")
        side(store, posts[:2000], docs[:2000])
        es.drop(store.index)
    best: dict[str, float] = {"chunk": chunk}
    for r in range(repeat):
        order = list(sides.items())[r % 3 :] + list(sides.items())[: r % 3]
        for name, side in order:
            store = es.fresh("bulk")
            start = time.perf_counter()
            side(store, posts, docs)
            elapsed = time.perf_counter() - start
            es.finish(store.index, len(posts))
            es.drop(store.index)
            best[name] = max(best.get(name, 0.0), rate(len(posts), elapsed))
    return best


# --- the scale load --------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _chunk(args: tuple[str, int, int]) -> tuple[bytes, int]:
    index, start, n = args
    gen, cached = _WORKER["gen"], _WORKER["segmenter"]
    body = b"".join(raw_lines(index, to_document(p, cached), "index") for p in gen.posts(n, start))
    return body, n


def scale_load(
    es: Indices, url: str, gen: PostGenerator, segmenter: Segmenter, n: int, workers: int
) -> tuple[str, dict]:
    """Build the NDJSON of `n` documents in memory (worker processes), then send it: the
    indexing rate is the node's, not the document builders'."""
    store = es.fresh("scale")
    _WORKER.update(gen=gen, segmenter=CachingSegmenter(segmenter))
    raw, chunk = RawBulk(url), 1000
    tasks = [(store.index, s, min(chunk, n - s)) for s in range(0, n, chunk)]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        bodies = [body for body, _ in pool.imap(_chunk, tasks)]
    built = time.perf_counter() - start
    log(f"  built {n:,} documents in {built:.0f}s ({sum(map(len, bodies)) / 2**20:,.0f} MB)")
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as send:  # two bulk requests in flight
        for _ in send.map(lambda body: raw.post(body, "?filter_path=errors,items.*.error"), bodies):
            pass
    del bodies
    loaded = time.perf_counter() - start
    es.client.indices.put_settings(
        index=store.index, settings={"index": {"refresh_interval": None}}
    )
    es.finish(store.index, n)
    settle = time.perf_counter()

    def merging() -> int:
        stats = es.client.indices.stats(index=store.index, metric="merge")
        return stats["_all"]["total"]["merges"]["current"]

    while merging() and time.perf_counter() - settle < 300:
        time.sleep(2)
    stats = es.client.indices.stats(index=store.index, metric="store,segments")["_all"]["primaries"]
    return store.index, {
        "docs": n,
        "build seconds": built,
        "build docs/s": rate(n, built),
        "seconds": loaded,
        "docs/s": rate(n, loaded),
        "merge wait s": time.perf_counter() - settle,
        "size MB": stats["store"]["size_in_bytes"] / 2**20,
        "segments": stats["segments"]["count"],
    }


def sqlite_load(path: Path, gen: PostGenerator, segmenter: Segmenter, n: int) -> dict:
    store = SqliteStore(path, CachingSegmenter(segmenter))
    store.setup()
    elapsed, batch = 0.0, 5000
    for s in range(0, n, batch):
        posts = list(gen.posts(min(batch, n - s), s))
        start = time.perf_counter()
        store.upsert(posts)
        elapsed += time.perf_counter() - start
    found = store.count()
    store.close()
    if found != n:
        raise RuntimeError(f"SQLite holds {found} posts, expected {n}")
    return {
        "docs": n,
        "seconds": elapsed,
        "docs/s": rate(n, elapsed),
        "size MB": path.stat().st_size / 2**20,
    }


# --- queries ---------------------------------------------------------------------------------


def midnight(day: date) -> datetime:
    return datetime.combine(day, dtime(0, 0), tzinfo=SHANGHAI)


def query_plans(
    gen: PostGenerator, runs: int, seed: int
) -> dict[str, list[Callable[[Store], object]]]:
    """For each dashboard query, `runs` calls, each on another window and other values."""
    rng = random.Random(seed)
    grievances = [t for t in gen.themes if t != "other"]

    def ends() -> list[date]:  # distinct days, so no two runs send the same request
        last = gen.end + timedelta(days=1)
        return [last - timedelta(days=d) for d in rng.sample(range(gen.days - 60), runs)]

    def search(end: date) -> Callable[[Store], object]:
        theme = rng.choice(grievances)
        q = SearchQuery(
            text=rng.choice(gen.keywords[theme]), themes=(theme,),
            sentiments=(rng.choice(("negative", "neutral", "positive")),),
            since=midnight(end - timedelta(days=30)), until=midnight(end), limit=20,
        )  # fmt: skip
        return lambda store: store.search(q)

    def overview(end: date) -> Callable[[Store], object]:
        q = SearchQuery(since=midnight(end - timedelta(days=60)), until=midnight(end))
        return lambda store: (
            store.counts_by_day(q, by_theme=True),
            store.counts_by_day(q, by_theme=False),
            store.top(q, "units", 10),
            store.top(q, "source", 10),
        )

    def hot_words(end: date) -> Callable[[Store], object]:
        q = SearchQuery(since=midnight(end - timedelta(days=30)), until=midnight(end))
        return lambda store: store.top(q, "words", 20)

    return {
        name: [make(e) for e in ends()]
        for name, make in (("search", search), ("overview", overview), ("hot words", hot_words))
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latencies(
    store: Store, plans: dict[str, list[Callable[[Store], object]]], warmup: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, calls in plans.items():
        if name != "search" and not callable(getattr(store, "top", None)):
            out[name] = {"error": "store has no top()"}
            continue
        for call in calls[:warmup]:
            call(store)
        times, totals = [], []
        for call in calls[warmup:]:
            start = time.perf_counter()
            result = call(store)
            times.append((time.perf_counter() - start) * 1000)
            totals.append(getattr(result, "total", 0))
        out[name] = {"p50": percentile(times, 50), "p95": percentile(times, 95), "runs": len(times)}
        if name == "search":
            out[name]["mean hits"] = sum(totals) / len(totals)
    return out


# --- report ----------------------------------------------------------------------------------


def report(r: dict) -> None:
    print(
        f"\n{os.cpu_count()} CPUs; 1-minute load average {r['load average at start']:.1f}", end=""
    )
    print(f" at the start, {r['load average at end']:.1f} at the end")
    print(f"\nDocuments ({r['bulk_posts']:,} posts; plain jieba timed on {r['sample']:,})")
    for k, v in r["documents"].items():
        print(f"  {k:40} {v:>12,.0f}" if isinstance(v, float) else f"  {k:40} {v:>12}")
    if "bulk" in r:
        rates = {k: v for k, v in r["bulk"].items() if k != "chunk"}
        raw_index, raw_update = (
            rates["raw _bulk, index actions"],
            rates["raw _bulk, same update actions"],
        )
        print(f"\nBulk into Elasticsearch: {r['bulk_posts']:,} docs", end="")
        print(f", chunks of {r['bulk']['chunk']}, best of {r['repeat']}")
        print(f"  {'':34} {'docs/s':>10} {'vs raw update':>14} {'vs raw index':>13}")
        for k, v in rates.items():
            print(f"  {k:34} {v:10,.0f} {v / raw_update:14.2f} {v / raw_index:13.2f}")
    print("\nLoads")
    if "es_load" in r:
        d = r["es_load"]
        print(
            f"  Elasticsearch documents built first ({r['workers']} processes, clause cache):",
            end="",
        )
        print(f" {d['build seconds']:.1f}s = {d['build docs/s']:,.0f} docs/s")
    for k in ("es_load", "sqlite_load"):
        if k in r:
            d = r[k]
            print(f"  {r[k + '_how']}: {d['docs']:,} docs in {d['seconds']:.1f}s", end="")
            print(f" = {d['docs/s']:,.0f} docs/s, {d['size MB']:,.0f} MB", end="")
            print(f", {d['segments']} segments" if "segments" in d else "")
    print("\nQuery latency, ms: p50 / p95")
    stores = [k for k in ("es_queries", "sqlite_queries") if k in r]
    heads = {"es_queries": f"ES {r['posts']:,}", "sqlite_queries": f"SQLite {r['sqlite_posts']:,}"}
    print(f"  {'':10}" + "".join(f"{heads[s]:>22}" for s in stores) + f"{'goal p95':>11}")
    for q in ("search", "overview", "hot words"):
        cells = []
        for s in stores:
            m = r[s][q]
            ok = "p50" in m
            cells.append(
                f"{m['p50']:>9.1f} / {m['p95']:>8.1f}" if ok else f"n/a: {m['error']}"[:20]
            )
        goal = f"< {GOALS[q]:.0f}" if q in GOALS else ""
        print(f"  {q:10}" + "".join(f"{c:>22}" for c in cells) + f"{goal:>11}")
    hits = [
        f"{r[s]['search']['mean hits']:,.0f} ({heads[s]})"
        for s in stores
        if "mean hits" in r[s]["search"]
    ]
    print(f"  search: {', '.join(hits)} hits on average")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000, help="Elasticsearch scale index")
    parser.add_argument("--bulk-posts", type=int, default=50_000, help="bulk throughput run")
    parser.add_argument("--sqlite-posts", type=int, default=100_000)
    parser.add_argument(
        "--es-url", default=os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    )
    parser.add_argument(
        "--runs", type=int, default=50, help="timed runs per query, after 5 warm-ups"
    )
    parser.add_argument("--repeat", type=int, default=2, help="bulk runs per side; the best counts")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="document builders"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 20k / 5k / 5k posts, 10 runs"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.posts, args.bulk_posts, args.sqlite_posts = 20_000, 5_000, 5_000
        args.runs, args.repeat = 10, 1
    warmup = 5

    config = load_config(ROOT / "configs", environ={"YUQING_PSEUDONYM_KEY": "bench"})
    segmenter = segmenter_for(config)
    gen = PostGenerator(config.taxonomy, seed=args.seed)
    plans = query_plans(gen, args.runs + warmup, seed=args.seed + 1)
    sample = min(args.bulk_posts, 2000)
    r: dict[str, Any] = {
        k: getattr(args, k)
        for k in ("posts", "bulk_posts", "sqlite_posts", "runs", "repeat", "workers")
    }
    r["sample"] = sample
    r["load average at start"] = os.getloadavg()[0]

    log(f"building {args.bulk_posts:,} documents...")
    posts, docs, r["documents"] = documents(gen, segmenter, args.bulk_posts, sample)
    client = Elasticsearch(args.es_url, request_timeout=600)
    es = Indices(client, segmenter)
    try:
        client.cluster.health(wait_for_status="yellow", timeout="30s")
        log(f"bulk: {args.bulk_posts:,} docs per side into {args.es_url}...")
        r["bulk"] = bulk_bench(es, args.es_url, posts, docs, args.repeat)
        del posts, docs
        log(f"loading {args.posts:,} docs into Elasticsearch...")
        name, r["es_load"] = scale_load(es, args.es_url, gen, segmenter, args.posts, args.workers)
        r["es_load_how"] = "Elasticsearch: raw _bulk index actions, 1000 a request, 2 in flight"
        log("querying Elasticsearch...")
        r["es_queries"] = latencies(
            es_store.ElasticsearchStore(client, name, segmenter), plans, warmup
        )
    finally:
        es.drop_all()
        client.close()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        log(f"loading {args.sqlite_posts:,} posts into SQLite...")
        r["sqlite_load"] = sqlite_load(path, gen, segmenter, args.sqlite_posts)
        r["sqlite_load_how"] = "SQLite: SqliteStore.upsert, batches of 5000, clause cache"
        log("querying SQLite...")
        store = SqliteStore(path, segmenter)
        r["sqlite_queries"] = latencies(store, plans, warmup)
        store.close()
    r["load average at end"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(r, indent=2, ensure_ascii=False))
    else:
        report(r)


if __name__ == "__main__":
    main()
