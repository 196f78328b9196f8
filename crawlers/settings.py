"""Scrapy settings: polite defaults, as in Scrapy's project template.

`crawlers.runner` overrides the YUQING_* settings and the politeness knobs from
configs/settings.yaml (`crawl:`); robots.txt is always obeyed.
"""

BOT_NAME = "yuqing"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"  # the retry backoff

USER_AGENT = "YuqingBot/0.1 (public-opinion monitoring; obeys robots.txt)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_MAXSIZE = 5_000_000  # crawl.max_page_bytes; larger pages are quarantined
DOWNLOAD_WARNSIZE = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 3
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "crawlers.middlewares.EncodingMiddleware": 580,  # after decompression (590)
    "crawlers.middlewares.BadPageMiddleware": 585,
}
SPIDER_MIDDLEWARES = {"crawlers.middlewares.ParseErrorMiddleware": 800}
ITEM_PIPELINES = {"crawlers.pipelines.PostPipeline": 300}

# Set by crawlers.runner: where validated posts, quarantined items, the crawl state and the
# evidence go, and the key that pseudonymises author handles.
YUQING_OUTPUT_DIR = None
YUQING_QUARANTINE_DIR = None
YUQING_STATE_PATH = None
YUQING_EVIDENCE_DIR = None
YUQING_PSEUDONYM_KEY = None
YUQING_INCREMENTAL = False
YUQING_RECHECK_DAYS = 0
YUQING_SINCE = None
YUQING_RETRY_BACKOFF = 1.0
YUQING_RETRY_BACKOFF_MAX = 60.0
YUQING_DELETED_MARKERS = []
YUQING_BATCH_POSTS = 50  # crawl.batch_posts: a batch the indexer can take closes after this many
YUQING_BATCH_SECONDS = 30.0  # crawl.batch_seconds: … or once it is this old
YUQING_PROGRESS = None  # a callable(source, event) the CLI's progress display passes in
# Scrapy checks each generator callback for a `return value` by reading its source with
# `inspect`, and its cache forgets bound methods: that check cost about 5% of a local crawl.
WARN_ON_GENERATOR_RETURN_VALUE = False
CONCURRENT_ITEMS = (
    8  # our pipeline is synchronous; 100 (the default) starts 100 asyncio tasks per response
)
