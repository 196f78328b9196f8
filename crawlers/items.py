"""What a spider yields: raw fields of one post, before validation into `yuqing.schema.Post`."""

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
    content_sha256 = scrapy.Field()
    units = scrapy.Field()  # canonical names of the watch-list units the post names
