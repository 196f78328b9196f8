"""`yuqing evidence`: a post's page exactly as it was first captured."""

from __future__ import annotations

import re
from pathlib import Path

import click

from crawlers.evidence import read_page
from crawlers.state import CrawlState
from yuqing.commands.common import CliState, UserError, pass_state
from yuqing.pipeline import DataPaths

SHA256 = re.compile(r"[0-9a-f]{64}")


def evidence_sha256(paths: DataPaths, post_or_sha: str) -> str:
    """The evidence sha256 itself, or the one the crawl state recorded for a post id."""
    if SHA256.fullmatch(post_or_sha):
        return post_or_sha
    state_path = paths.crawl_state
    if not state_path.is_file():
        raise UserError(f"no crawl state in {paths.crawl}: nothing was crawled into {paths.root}")
    state = CrawlState(state_path)
    try:
        known = state.get(post_or_sha)
    finally:
        state.close()
    if known is None:
        raise UserError(
            f"no post {post_or_sha!r} in the crawl state. Fix: pass a post id as `yuqing search "
            "--json` prints it, or the post's evidence_sha256."
        )
    if not known.evidence_sha256:
        raise UserError(f"post {post_or_sha} was captured without its page (an empty body)")
    return known.evidence_sha256


def read_evidence(paths: DataPaths, post_or_sha: str) -> tuple[str, bytes]:
    """(sha256, the raw bytes) of a post's evidence, checked against the sha256."""
    sha = evidence_sha256(paths, post_or_sha)
    try:
        page = read_page(paths.evidence, sha)
    except ValueError as e:  # the bytes no longer hash to their name
        raise click.ClickException(str(e)) from e
    if page is None:
        raise UserError(f"no evidence {sha} in {paths.evidence}")
    return sha, page


@click.command()
@click.argument("post_or_sha")
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the page to this file (default: standard output).",
)
@pass_state
def evidence(state: CliState, post_or_sha: str, out: Path | None) -> None:
    """Write out the raw page kept as evidence for a post (its id) or a sha256: the bytes as
    fetched at first capture, kept after the post is deleted from its site."""
    paths = DataPaths(state.config().data_dir)
    sha, raw = read_evidence(paths, post_or_sha)
    if out is None:
        click.get_binary_stream("stdout").write(raw)
    else:
        out.write_bytes(raw)
    click.echo(f"evidence {sha}: {len(raw)} bytes, sha256 checked", err=True)


COMMANDS = (evidence,)
