"""The briefing as a Word document (python-docx), with real hyperlinks and PNG charts.

python-docx has no API for external hyperlinks: `add_hyperlink` builds the `w:hyperlink`
element with a relationship to the URL, styled as a link.
"""

from __future__ import annotations

import io

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches

from dashboard.briefing.content import Briefing
from dashboard.briefing.text import sections


def add_hyperlink(paragraph, text: str, url: str) -> None:
    """Append `text` linking to `url` (an external hyperlink) to `paragraph`."""
    rel_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "0563C1")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.append(colour)
    props.append(underline)
    run.append(props)
    node = OxmlElement("w:t")
    node.text = text
    node.set(qn("xml:space"), "preserve")
    run.append(node)
    link.append(run)
    paragraph._p.append(link)


def _clean(text: str) -> str:
    # XML 1.0 has no place for most control characters; crawled text may carry them.
    return "".join(c for c in str(text) if c in "\t\n" or ord(c) >= 32)


def to_docx(b: Briefing, charts: dict[str, bytes]) -> bytes:
    doc = Document()
    doc.add_heading(_clean(b.title), level=0)
    doc.add_paragraph(f"Generated {b.generated_at:%Y-%m-%d %H:%M %Z}.")
    for heading, lines, chart in sections(b):
        doc.add_heading(heading, level=1)
        for line in lines:
            para = doc.add_paragraph(style="List Bullet")
            for piece in line:
                if isinstance(piece, str):
                    para.add_run(_clean(piece))
                else:
                    add_hyperlink(para, _clean(piece[0]), piece[1])
        if chart and chart in charts:
            doc.add_picture(io.BytesIO(charts[chart]), width=Inches(6))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
