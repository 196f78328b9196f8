"""Crawl throughput: pages/s of a full Yuqing crawl next to a bare Scrapy spider, one run.

    .venv/bin/python bench/crawl.py [--seed 7] [--concurrency 8] [--rounds 3] [--classify] [--json]

Both crawl the same local demo site (served here on 127.0.0.1) with the same Scrapy settings:
robots.txt obeyed, no delay, AutoThrottle off, `--concurrency` requests in flight per crawler.
*Yuqing* is the product's path: one crawler per demo source (`crawlers.runner`), list and
detail pages parsed with the sources.yaml selectors, dates parsed, items validated into posts
with pseudonymised authors, each raw page kept as evidence and each post recorded in the crawl
state, and the posts written to the inbox in batches of `crawl.batch_posts`; as
`yuqing crawl` does, a live indexer process (`yuqing.live_index`) takes each batch as it closes
and upserts its posts into a fresh SQLite store (stories, jieba segmentation, FTS), and the last
batches after the crawl — with no classifier (`--classify` times the lexicon on the same posts
on its own line). *Bare* is a spider that
is handed the very URLs the Yuqing crawl fetched and only downloads them, run as one crawler per
source as well. Each crawl runs in its own process (Twisted's reactor runs once per process);
the time is from the start of the crawl to the last post stored, and the CPU time includes the
live indexer's. The best of `--rounds` counts.

Fairness: every crawl is timed the same way, in its own fresh process, from just before its
`CrawlerProcess` is created (so building crawlers and engines, and the imports that happen
then, count on both sides) to the end of its work; what every process pays before that (the
bench's imports, the config, for Yuqing the jieba dictionary and the empty store) counts on
neither. Both sides use the settings `crawlers.runner` builds (robots.txt, middlewares,
`CONCURRENT_ITEMS`, concurrency); the baselines only drop the item pipeline. The rounds run the
three crawls in a rotated order, so none always runs first or last while the load of a shared
machine comes and goes; `CPU s` (the child's user + system time) is less sensitive to that
load than seconds, and the per-CPU-second ratio is printed beside the pages/s one.

*Follow* is a second baseline: a bare spider that finds the pages as a crawler must, following
each source's list-page links (its sources.yaml link selectors, nothing else) and downloading
the detail pages, with no item, no parsing of posts, no pipeline and no state. Against it the
ratio measures what Yuqing's processing costs; against *bare* it also includes the waiting
that discovery through list pages causes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import scrapy  # noqa: E402

from crawlers import extract  # noqa: E402
from crawlers.runner import run_crawl, scrapy_settings  # noqa: E402
from yuqing import demosite  # noqa: E402
from yuqing.schema import Classification  # noqa: E402
from yuqing.settings import Config, load_config  # noqa: E402

KEY = {"YUQING_PSEUDONYM_KEY": "bench-key-not-secret"}
CONCURRENT_ITEMS = 0  # --concurrent-items: 0 keeps the crawl's own setting


class NoClassifier:
    """Stores posts unclassified: the bench times the crawl path, not a model."""

    name = "none"

    def classify(self, texts: list[str]) -> list[Classification]:
        return [Classification() for _ in texts]


class BareSpider(scrapy.Spider):
    """Downloads the URLs it is given and does nothing with them."""

    name = "bare"

    def __init__(self, urls: list[str], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.urls = urls

    async def start(self) -> Any:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response: scrapy.http.Response) -> None:
        return None


class FollowSpider(scrapy.Spider):
    """Follows one source's list pages by its link selectors and downloads what they link to."""

    name = "follow"

    def __init__(self, source: Any, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source = source

    async def start(self) -> Any:
        for url in self.source.start_urls:
            yield scrapy.Request(url, callback=self.parse_index)

    def parse_index(self, response: scrapy.http.Response) -> Any:
        listing = self.source.listing
        if listing is None:  # a feed: the one document is the whole source
            return
        if listing.index_links:
            for href in extract.links(response, listing.index_links):
                yield response.follow(href, callback=self.parse_list)
        else:
            yield from self.parse_list(response)

    def parse_list(self, response: scrapy.http.Response) -> Any:
        listing = self.source.listing
        for href in extract.links(response, listing.item_links):
            yield response.follow(href, callback=self.done)
        for href in extract.links(response, listing.next_page)[:1]:
            yield response.follow(href, callback=self.parse_list)

    def done(self, response: scrapy.http.Response) -> None:
        return None


def _config(base_url: str) -> Config:
    return load_config(ROOT / "configs", demo_url=base_url, environ=KEY)


def _settings(config: Config, data: Path, concurrency: int) -> scrapy.settings.Settings:
    crawl = config.settings.crawl.model_copy(
        update={"download_delay": 0.0, "concurrent_requests_per_domain": concurrency}
    )
    settings = scrapy_settings(crawl, data / "inbox", data / "quarantine", config.pseudonym_key)
    settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
    settings.set("CONCURRENT_REQUESTS", concurrency, priority="cmdline")
    if CONCURRENT_ITEMS:
        settings.set("CONCURRENT_ITEMS", CONCURRENT_ITEMS, priority="cmdline")
    return settings


def _demo_sources(config: Config, base_url: str) -> list:
    return [s for s in config.sources if all(u.startswith(base_url) for u in s.start_urls)]


def _open_index(data: Path, config: Config) -> tuple[Any, NoClassifier, int]:
    from index.sqlite_store import SqliteStore
    from yuqing.services import segmenter_for

    return SqliteStore(data / "yuqing.sqlite3", segmenter_for(config)), NoClassifier(), 64


def child_yuqing(base_url: str, data: Path, concurrency: int) -> dict[str, Any]:
    from yuqing.live_index import LiveIndexer
    from yuqing.pipeline import DataPaths, process_inbox

    config = _config(base_url)
    store, classifier, batch = _open_index(data, config)
    store.setup()
    store.close()  # no open SQLite connection crosses the fork
    start, cpu = time.perf_counter(), _cpu()
    # As `yuqing crawl` does: a worker indexes each batch as it closes, then the rest.
    with LiveIndexer(DataPaths(data), partial(_open_index, data, config)) as live:
        report = run_crawl(_demo_sources(config, base_url), _settings(config, data, concurrency))
        crawled = time.perf_counter()
    index = live.report
    store, classifier, batch = _open_index(data, config)
    index.add(process_inbox(DataPaths(data), store, classifier, batch))
    done = time.perf_counter()
    cpu = _cpu() - cpu
    store.close()
    by_source = {
        name: int(s.get("response_received_count", 0)) for name, s in report.per_source.items()
    }
    return {
        "pages": report.pages_fetched,
        "pages_by_source": by_source,
        "posts": index.posts,
        "crawl_s": crawled - start,
        "store_s": done - crawled,
        "seconds": done - start,
        "cpu_s": cpu,
    }


def child_bare(base_url: str, data: Path, concurrency: int, urls: dict[str, list[str]]) -> dict:
    from scrapy.crawler import CrawlerProcess

    settings = _settings(_config(base_url), data, concurrency)
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    # Timed from the process's creation, as `run_crawl` is on the Yuqing side: building the
    # crawlers and their engines (about a second of imports) belongs to either crawl.
    start, cpu = time.perf_counter(), _cpu()
    process = CrawlerProcess(settings)
    crawlers = []
    for name, group in urls.items():
        spider = type(f"Bare_{name.replace('-', '_')}", (BareSpider,), {"name": f"bare-{name}"})
        crawler = process.create_crawler(spider)
        crawlers.append(crawler)
        process.crawl(crawler, urls=group)
    process.start()
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    pages = sum(int(c.stats.get_value("response_received_count", 0)) for c in crawlers)
    return {"pages": pages, "seconds": seconds, "cpu_s": cpu}


def child_follow(base_url: str, data: Path, concurrency: int) -> dict:
    from scrapy.crawler import CrawlerProcess

    config = _config(base_url)
    settings = _settings(config, data, concurrency)
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    start, cpu = time.perf_counter(), _cpu()
    process = CrawlerProcess(settings)
    crawlers = []
    for source in _demo_sources(config, base_url):
        name = f"Follow_{source.name.replace('-', '_')}"
        crawler = process.create_crawler(type(name, (FollowSpider,), {"name": source.name}))
        crawlers.append(crawler)
        process.crawl(crawler, source=source)
    process.start()
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    pages = sum(int(c.stats.get_value("response_received_count", 0)) for c in crawlers)
    return {"pages": pages, "seconds": seconds, "cpu_s": cpu}


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished children (the live
    indexer) so far."""
    usages = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return sum(u.ru_utime + u.ru_stime for u in usages)


def _run_child(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"bench child {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _urls_by_source(server: demosite.DemoServer, base_url: str) -> dict[str, list[str]]:
    """What the Yuqing crawl fetched, by the source whose pages they are (robots.txt aside)."""
    prefixes = {"/forum/": "demo-forum", "/news/": "demo-news", "/board/": "demo-leader-board"}
    prefixes["/complaints/"] = "demo-complaints"
    groups: dict[str, list[str]] = defaultdict(list)
    for target in sorted(server.attempts):
        name = next((n for p, n in prefixes.items() if target.startswith(p)), None)
        if name:
            groups[name].append(base_url + target)
    return dict(groups)


def _lexicon(data: Path, base_url: str) -> dict[str, float]:
    from index.sqlite_store import SqliteStore
    from yuqing.services import classifier_for, segmenter_for

    config = _config(base_url)
    store = SqliteStore(data / "yuqing.sqlite3", segmenter_for(config))
    posts = [json.loads(line) for f in (data / "processed").glob("*.jsonl") for line in f.open()]
    store.close()
    classifier = classifier_for(config)
    texts = [f"{p['title']}\n{p['text']}" for p in posts]
    start = time.perf_counter()
    for i in range(0, len(texts), 64):
        classifier.classify(texts[i : i + 64])
    seconds = time.perf_counter() - start
    return {"posts": len(texts), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--classify", action="store_true", help="also time the lexicon")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--concurrent-items",
        type=int,
        default=0,
        help="Scrapy's CONCURRENT_ITEMS for both crawls (default: the crawl's own setting)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global CONCURRENT_ITEMS
    CONCURRENT_ITEMS = args.concurrent_items
    if args.child:
        kind, base_url, data = args.child[0], args.child[1], Path(args.child[2])
        if kind == "yuqing":
            result = child_yuqing(base_url, data, args.concurrency)
        elif kind == "follow":
            result = child_follow(base_url, data, args.concurrency)
        else:
            urls = json.loads(Path(args.child[3]).read_text(encoding="utf-8"))
            result = child_bare(base_url, data, args.concurrency, urls)
        print(json.dumps(result))
        return

    corpus = demosite.generate(args.seed)
    server, base_url = demosite.serve_in_thread(corpus)
    best: dict[str, dict[str, Any]] = {}
    conc = ["--concurrency", str(args.concurrency), "--concurrent-items", str(CONCURRENT_ITEMS)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # One Yuqing crawl first, for the URLs the bare spider is handed; then each round
            # runs the three crawls in a rotated order, so no crawl always runs first or last
            # while the machine's load comes and goes.
            server.attempts.clear()
            first = _run_child("yuqing", base_url, str(Path(tmp) / "yuqing-0"), *conc)
            urls = Path(tmp) / "urls.json"
            urls.write_text(json.dumps(_urls_by_source(server, base_url)), encoding="utf-8")
            order = ["yuqing", "bare", "follow"]
            for r in range(args.rounds):
                results = {"yuqing": first} if r == 0 else {}
                for name in order[r % 3 :] + order[: r % 3]:
                    if name in results:
                        continue
                    data = str(Path(tmp) / f"{name}-{r}")
                    extra = [str(urls)] if name == "bare" else []
                    results[name] = _run_child(name, base_url, data, *extra, *conc)
                for name, result in results.items():
                    result["pages_per_s"] = result["pages"] / result["seconds"]
                    if result["pages_per_s"] > best.get(name, {}).get("pages_per_s", 0):
                        best[name] = result
            if args.classify:
                best["lexicon"] = _lexicon(Path(tmp) / "yuqing-0", base_url)
    finally:
        server.shutdown()
        server.server_close()
    ratio = best["yuqing"]["pages_per_s"] / best["bare"]["pages_per_s"]
    follow_ratio = best["yuqing"]["pages_per_s"] / best["follow"]["pages_per_s"]
    cpu_ratio = (best["bare"]["cpu_s"] / best["bare"]["pages"]) / (
        best["yuqing"]["cpu_s"] / best["yuqing"]["pages"]
    )
    if args.json:
        summary = {"ratio": ratio, "follow_ratio": follow_ratio, "cpu_ratio": cpu_ratio}
        summary["posts_in_corpus"] = len(corpus.posts)
        print(json.dumps({**best, **summary}, indent=2))
        return
    yq, bare = best["yuqing"], best["bare"]
    print(f"Demo site seed {args.seed}: {len(corpus.posts)} posts; concurrency {args.concurrency}")
    print(f"{'crawl':<8}{'pages':>7}{'seconds':>9}{'pages/s':>9}{'CPU s':>8}")
    for name, r in (("bare", bare), ("follow", best["follow"]), ("yuqing", yq)):
        row = f"{r['pages']:>7}{r['seconds']:>9.2f}{r['pages_per_s']:>9.1f}{r['cpu_s']:>8.2f}"
        print(f"{name:<8}{row}")
    print(
        f"Yuqing: crawl {yq['crawl_s']:.2f} s + store {yq['store_s']:.2f} s ({yq['posts']} posts)"
    )
    print(
        f"Ratio yuqing/bare: {ratio:.2f} in pages/s (goal >= 0.8), {cpu_ratio:.2f} per CPU second"
    )
    print(f"Ratio yuqing/follow (both find the pages through the list pages): {follow_ratio:.2f}")
    if "lexicon" in best:
        lex = best["lexicon"]
        print(f"Lexicon, separately: {lex['posts']} posts in {lex['seconds']:.2f} s")


if __name__ == "__main__":
    main()
