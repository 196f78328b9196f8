"""Officers' corrections of a post's themes and sentiment: the labelled data the product earns.

Corrections are appended to a JSONL log (data/labels/corrections.jsonl) with their time; the
latest correction of a post wins. `export` writes them in the TAXONOMY format, ready for
`yuqing train` and `yuqing evaluate`. Nothing about the officer is recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from nlp.labels import LabelledExample, write_labelled
from yuqing.schema import SENTIMENTS, SHANGHAI, Post

FILE = Path("labels") / "corrections.jsonl"


class CorrectionLog:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> CorrectionLog:
        return cls(Path(data_dir) / FILE)

    def record(
        self, post: Post, themes: Sequence[str], sentiment: str, theme_ids: Sequence[str]
    ) -> dict:
        """Append a correction; raise ValueError if the labels are not in the taxonomy."""
        unknown = sorted(set(themes) - set(theme_ids))
        if not themes or unknown:
            raise ValueError(f"themes must be 1 or more of {list(theme_ids)}; got {list(themes)}")
        if sentiment not in SENTIMENTS:
            raise ValueError(f"sentiment must be one of {list(SENTIMENTS)}; got {sentiment!r}")
        entry = {
            "post_id": post.id,
            "platform": post.platform,
            "title": post.title,
            "text": post.text,
            "themes": list(dict.fromkeys(themes)),
            "sentiment": sentiment,
            "was": {"themes": post.themes, "sentiment": post.sentiment},
            "at": datetime.now(SHANGHAI).isoformat(),
        }
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry

    def latest(self) -> list[LabelledExample]:
        """One example per corrected post: its latest correction, oldest post first."""
        if not self.path.is_file():
            return []
        by_post: dict[str, dict] = {}
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    entry = json.loads(line)
                    by_post.pop(entry["post_id"], None)
                    by_post[entry["post_id"]] = entry
        return [
            LabelledExample(
                id=e["post_id"],
                text=e["text"],
                title=e["title"],
                platform=e["platform"],
                themes=tuple(e["themes"]),
                sentiment=e["sentiment"],
                notes=f"officer correction {e['at']}",
            )
            for e in by_post.values()
        ]

    def export(self, out: Path) -> int:
        return write_labelled(out, self.latest())
