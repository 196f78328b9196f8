"""Scrapy settings: polite defaults, as in Scrapy's project template.

`crawlers.runner` overrides the YUQING_* settings and the politeness knobs from
configs/settings.yaml (`crawl:`); robots.txt is always obeyed.
"""

BOT_NAME = "yuqing"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

USER_AGENT = "YuqingBot/0.1 (public-opinion monitoring; obeys robots.txt)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
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

ITEM_PIPELINES = {"crawlers.pipelines.PostPipeline": 300}

# Set by crawlers.runner: where validated posts and quarantined items are written,
# and the key that pseudonymises author handles.
YUQING_OUTPUT_DIR = None
YUQING_QUARANTINE_DIR = None
YUQING_PSEUDONYM_KEY = None
