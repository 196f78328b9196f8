"""Index while a crawl fills the inbox: a worker process takes each batch as soon as it closes.

The crawl runs Twisted in its own process and is mostly busy in Python, so the classifier and
the store (jieba segmentation, the model) work beside it in a second process, on another core:
posts reach the dashboard during a long crawl rather than after it, and a crawl of a fast site
finishes sooner. Nothing changes in the data flow: the crawler closes batches into the inbox
(`crawl.batch_posts`, `crawl.batch_seconds`), the worker runs `process_inbox` on them, and a
batch leaves the inbox only once the store accepted it. Whatever the worker leaves (it stopped,
the store was down) stays spooled for the pass `yuqing crawl` makes after the crawl.

The worker is forked before the crawl starts (before Twisted's reactor, the progress display's
thread and the crawl lock exist). It stops when the crawl's process closes its end of a pipe, or
dies (even by SIGKILL: the kernel closes the pipe), or on SIGTERM: it finishes the pass it is
in, makes one last pass over what is closed, and exits. It never outlives the crawl by more.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from types import TracebackType

from index.base import Store, StoreUnavailable
from nlp.base import Classifier
from yuqing.pipeline import DataPaths, IndexReport, process_inbox

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25

# Builds, in the worker, what `process_inbox` needs: the store, the classifier, the batch size.
OpenIndex = Callable[[], tuple[Store, Classifier, int]]


@dataclass
class LiveResult:
    """What the worker indexed in all, and how many posts of it before the crawl ended."""

    report: IndexReport
    during_crawl: int = 0


def _context() -> multiprocessing.context.BaseContext:
    """Fork where there is fork: the worker starts at once, with the modules (and the jieba
    dictionary) the crawl's process already loaded; spawn elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def follow_inbox(
    paths: DataPaths,
    open_index: OpenIndex,
    stopped: Callable[[float], bool],
    parent: int,
    poll: float = POLL_SECONDS,
) -> LiveResult:
    """Index the inbox's batches as they close until `stopped(wait)` (which waits up to `wait`
    seconds for the word to stop) says so (then one last pass), the store fails, or the process
    `parent` is gone."""
    result = LiveResult(IndexReport())
    try:
        store, classifier, batch_size = open_index()
    except StoreUnavailable as e:
        result.report.error = str(e)
        return result
    try:
        while True:
            last = stopped(0) or os.getppid() != parent  # before the pass: it sees every batch
            if last:
                result.during_crawl = result.report.posts
            result.report.add(process_inbox(paths, store, classifier, batch_size))
            if last or result.report.error:
                return result
            stopped(poll)
    finally:
        store.close()


def _worker(
    paths: DataPaths,
    open_index: OpenIndex,
    stop: Connection,
    stop_sender: Connection,
    parent: int,
    results: Connection,
) -> None:
    # The word to stop is the end of the `stop` pipe: the crawl's process closes its end when
    # the crawl is over, and the kernel closes it when that process dies. This process's copy
    # of the sending end would keep the pipe open, so it goes first.
    stop_sender.close()
    term = []
    # Ctrl-C reaches the whole process group: the crawl's process stops the crawl and then
    # closes the pipe. SIGTERM alone (a service manager) ends the worker after a last pass.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: term.append(True))

    def stopped(wait_s: float) -> bool:
        return bool(term) or stop.poll(wait_s)

    try:
        result = follow_inbox(paths, open_index, stopped, parent)
    except Exception as e:  # the batches stay spooled; the pass after the crawl takes them
        logger.exception("the live indexer stopped")
        result = LiveResult(IndexReport(error=f"live indexer: {e}"))
    try:
        results.send(result)
    except OSError:  # the crawl's process is gone: nobody to tell
        pass


class LiveIndexer:
    """A context manager: indexes the inbox in a worker process while its block runs, and on
    exit waits for the worker's last pass. `report` then holds what the worker indexed, and
    `during_crawl` how many posts of it it stored before the block ended."""

    def __init__(self, paths: DataPaths, open_index: OpenIndex):
        self.paths = paths
        self.open_index = open_index
        self.report = IndexReport()
        self.during_crawl = 0
        context = _context()
        self._stop, self._stop_sender = context.Pipe(duplex=False)
        self._results, self._results_sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_worker,
            args=(
                paths,
                open_index,
                self._stop,
                self._stop_sender,
                os.getpid(),
                self._results_sender,
            ),
            name="yuqing-live-indexer",
            daemon=True,
        )

    @property
    def pid(self) -> int | None:
        """The worker's process id, once started."""
        return self._process.pid

    def __enter__(self) -> LiveIndexer:
        self._process.start()
        self._stop.close()  # the worker's ends
        self._results_sender.close()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop_sender.close()  # the word to stop: one last pass, then the result
        wait([self._results, self._process.sentinel])  # whichever comes first
        result = None
        if self._results.poll():
            with suppress(EOFError):  # the worker died before it could send
                result = self._results.recv()
        self._results.close()
        self._process.join()
        if result is None:
            result = LiveResult(
                IndexReport(error=f"live indexer exited with {self._process.exitcode}")
            )
        self.report, self.during_crawl = result.report, result.during_crawl
        if self.report.error:
            logger.warning(
                "indexing during the crawl stopped (%s); the rest is indexed after it",
                self.report.error,
            )
