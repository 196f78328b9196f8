"""Briefings: a day's or a week's public opinion as a DOCX, HTML or Markdown document
(`yuqing report`, and the Briefings page). `content` gathers the numbers, `charts` draws
them, and `markdown`, `html` and `docx` write them; every number and quoted post links back
to the dashboard."""
