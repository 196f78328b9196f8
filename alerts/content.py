"""What an alert says: its Chinese title and summary, the top posts with links, the hot words and
a dashboard link with the same filters; and the message channels send, in text, Markdown and
HTML. Post text is escaped in HTML and Markdown, never rendered."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from alerts.detectors import Candidate
from index.base import SearchQuery
from yuqing.schema import SHANGHAI, Post

DETECTOR_NAMES = {
    "spike": "负面声量激增",
    "share": "负面占比骤升",
    "new": "新出现负面话题",
    "severe": "严重事件",
    "story": "事件跨平台扩散",
}
EVENT_NAMES = {"new": "预警", "update": "更新", "refire": "再次预警"}
SEVERITY_NAMES = {"info": "提示", "warning": "警告", "critical": "严重"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#+!|<>~])")


@dataclass(frozen=True)
class AlertMessage:
    """What a channel sends for one alert event."""

    alert_id: str
    event: str  # new | update | refire
    severity: str
    title: str
    text: str
    markdown: str
    html: str
    url: str  # the dashboard link
    alert: dict[str, Any]


def where(scope: dict[str, str | None], theme_names: dict[str, str]) -> str:
    parts = []
    if scope.get("theme"):
        parts.append(theme_names.get(scope["theme"], scope["theme"]))
    parts += [scope[k] for k in ("unit", "source") if scope.get(k)]
    if scope.get("story_id"):
        parts.append(f"事件 {scope['story_id']}")
    return " · ".join(parts) or "全部"


def title(c: Candidate, theme_names: dict[str, str]) -> str:
    return f"【{DETECTOR_NAMES[c.rule.detector]}】{where(c.scope, theme_names)}"


def summary(c: Candidate, posts: list[Post]) -> str:
    d = c.rule.detector
    hours = round((c.window_end - c.window_start).total_seconds() / 3600)
    if d == "spike":
        return (
            f"近{hours}小时负面帖文 {c.observed} 条，基线预期 {c.expected:g} 条"
            f"（{c.ratio:g} 倍，p={c.p_value:.1e}）。"
        )
    if d == "share":
        return (
            f"近{hours}小时负面占比 {c.detail['share']:.0%}（{c.observed}/{c.detail['posts']}），"
            f"基线 {c.detail['baseline_share']:.0%}（p={c.p_value:.1e}）。"
        )
    if d == "new":
        return f"近{hours}小时出现负面帖文 {c.observed} 条，基线期内没有。"
    if d == "story":
        return (
            f"同一事件近{hours}小时在 {c.detail['sources']} 个来源出现 {c.observed} 条帖文："
            f"{c.detail['source_names']}。"
        )
    post = posts[0] if posts else None
    head = f"《{post.title}》" if post and post.title else "一条帖文"
    return f"{head}提到“{c.detail['term']}”，请立即核实处置。"


def _day(value: datetime) -> str:
    return value.astimezone(SHANGHAI).date().isoformat()


def dashboard_link(base: str, query: SearchQuery) -> str:
    """The dashboard's search page with the same filters (repeated keys for several values),
    `since` and `until` as Asia/Shanghai days (`until` exclusive)."""
    params: list[tuple[str, str]] = []
    for key in ("themes", "units", "sources", "platforms", "story_ids", "sentiments"):
        params += [(key, v) for v in getattr(query, key)]
    if query.since:
        params.append(("since", _day(query.since)))
    if query.until:  # exclusive, as in `yuqing search`: the day after a window that ends mid-day
        end = query.until.astimezone(SHANGHAI)
        last = end.date() if end.time() == time(0) else end.date() + timedelta(days=1)
        params.append(("until", last.isoformat()))
    return f"{base}/search?{urlencode(params)}"


def post_link(base: str, post_id: str) -> str:
    return f"{base}/post?{urlencode({'post': post_id})}"


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text.replace("\n", " "))


def _excerpt(post: Post, width: int = 60) -> str:
    text = post.full_text().replace("\n", " ")
    return text[:width] + ("…" if len(text) > width else "")


def render(alert: dict[str, Any], event: str, posts: list[dict[str, Any]]) -> AlertMessage:
    """The message for one event of `alert`; `posts` are its top posts as stored in `alert`."""
    head = f"[{SEVERITY_NAMES[alert['severity']]}·{EVENT_NAMES[event]}] {alert['title']}"
    facts = [alert["summary"]]
    if alert.get("department_name"):
        facts.append(f"归口部门：{alert['department_name']}")
    if alert.get("sensitive_period"):
        facts.append(f"敏感期：{alert['sensitive_period']}")
    if alert.get("top_words"):
        facts.append("热词：" + "、".join(alert["top_words"]))
    text = [head, "", *facts, ""]
    md = [f"### {_md(head)}", *(f"- {_md(f)}" for f in facts)]
    rows = []
    for i, p in enumerate(posts, 1):
        text.append(f"{i}. {p['title'] or '(无标题)'} — {p['excerpt']}\n   原文 {p['url']}")
        text.append(f"   看板 {p['dashboard_url']}")
        md.append(
            f"{i}. [{_md(p['title'] or '(无标题)')}]({p['url']}) {_md(p['excerpt'])} "
            f"([看板]({p['dashboard_url']}))"
        )
        rows.append(
            f'<li><a href="{html.escape(p["url"])}">{html.escape(p["title"] or "(无标题)")}</a> '
            f"{html.escape(p['excerpt'])} "
            f'(<a href="{html.escape(p["dashboard_url"])}">看板</a>)</li>'
        )
    text.append(f"\n在看板中查看：{alert['dashboard_url']}")
    md.append(f"\n[在看板中查看]({alert['dashboard_url']})")
    body = "".join(f"<p>{html.escape(f)}</p>" for f in facts)
    page = (
        f"<html><body><h3>{html.escape(head)}</h3>{body}<ol>{''.join(rows)}</ol>"
        f'<p><a href="{html.escape(alert["dashboard_url"])}">在看板中查看</a></p></body></html>'
    )
    return AlertMessage(
        alert_id=alert["id"],
        event=event,
        severity=alert["severity"],
        title=head,
        text="\n".join(text),
        markdown="\n".join(md),
        html=page,
        url=alert["dashboard_url"],
        alert=alert,
    )


def top_post(post: Post, dashboard_url: str) -> dict[str, Any]:
    return {
        "id": post.id,
        "title": post.title,
        "excerpt": _excerpt(post),
        "url": post.url,
        "dashboard_url": post_link(dashboard_url, post.id),
        "published_at": post.published_at.isoformat() if post.published_at else None,
    }
