"""What a spider yields: raw fields of one post, before validation into `yuqing.schema.Post`;
a post found gone from its site; or something that could not be read, for the quarantine."""

import scrapy


class PostItem(scrapy.Item):
    source = scrapy.Field()
    platform = scrapy.Field()
    url = scrapy.Field()
    title = scrapy.Field()
    text = scrapy.Field()
    author = scrapy.Field()  # the raw handle; the pipeline replaces it with a keyed hash
    published_at = scrapy.Field()  # aware datetime, or None
    published_raw = scrapy.Field()  # the date as the page wrote it
    reply_text = scrapy.Field()
    reply_by = scrapy.Field()
    reply_at = scrapy.Field()
    reply_raw = scrapy.Field()  # the reply's date as the page wrote it
    content_sha256 = scrapy.Field()
    raw = scrapy.Field()  # the page's bytes, kept as evidence at first capture
    units = scrapy.Field()  # canonical names of the watch-list units the post names


class GoneItem(scrapy.Item):
    """A known post whose page now answers 404/410 or says it was deleted."""

    source = scrapy.Field()
    url = scrapy.Field()
    reason = scrapy.Field()


class QuarantineItem(scrapy.Item):
    """A page or entry that could not be read into a post, with the reason."""

    source = scrapy.Field()
    url = scrapy.Field()
    reason = scrapy.Field()  # a short slug: oversize, empty_body, parse_error, http_error …
    error = scrapy.Field()  # what went wrong, in words
