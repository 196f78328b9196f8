"""Forum posts for tests that feed the pipeline's inbox directly."""

from __future__ import annotations

from datetime import datetime, timedelta

from yuqing.schema import SHANGHAI, Post, content_sha256, post_id

BASE = datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI)


def make_post(n: int) -> Post:
    """Post number `n` of a forum thread list: a wage grievance, published n minutes on."""
    url = f"http://127.0.0.1/forum/thread/{n}.html"
    text = f"第{n}号帖：第三采油厂拖欠工资{n % 12}个月，取暖费也没发。"
    return Post(
        id=post_id(url),
        source="forum-a",
        platform="forum",
        url=url,
        title=f"讨薪{n}",
        text=text,
        published_at=BASE + timedelta(minutes=n),
        fetched_at=BASE + timedelta(days=1),
        content_sha256=content_sha256(text),
    )
