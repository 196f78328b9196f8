"""Index while a crawl fills the inbox: a worker process takes each batch as soon as it closes.

The crawl runs Twisted in its own process and is mostly busy in Python, so the classifier and
the store (jieba segmentation, the model) work beside it in a second process, on another core:
posts reach the dashboard during a long crawl rather than after it, and a crawl of a fast site
finishes sooner. Nothing changes in the data flow: the crawler closes batches into the inbox
(`crawl.batch_posts`, `crawl.batch_seconds`), the worker runs `process_inbox` on them, and a
batch leaves the inbox only once the store accepted it. Whatever the worker leaves (it stopped,
the store was down) stays spooled for the pass `yuqing crawl` makes after the crawl.

The worker is forked before the crawl starts (before Twisted's reactor, the progress display's
thread and the crawl lock exist). It exits when told to, after one last pass, and by itself
when the crawl's process dies (SIGKILL): it never outlives the crawl.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from types import TracebackType

from index.base import Store, StoreUnavailable
from nlp.base import Classifier
from yuqing.pipeline import DataPaths, IndexReport, process_inbox

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25

# Builds, in the worker, what `process_inbox` needs: the store, the classifier, the batch size.
OpenIndex = Callable[[], tuple[Store, Classifier, int]]


def _context() -> multiprocessing.context.BaseContext:
    """Fork where there is fork: the worker starts at once, with the modules (and the jieba
    dictionary) the crawl's process already loaded; spawn elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def follow_inbox(
    paths: DataPaths,
    open_index: OpenIndex,
    stop: multiprocessing.synchronize.Event,
    parent: int,
    poll: float = POLL_SECONDS,
) -> IndexReport:
    """Index the inbox's batches as they close until `stop` is set (then one last pass), the
    store fails, or the process `parent` is gone."""
    report = IndexReport()
    try:
        store, classifier, batch_size = open_index()
    except StoreUnavailable as e:
        report.error = str(e)
        return report
    try:
        while True:
            last = stop.is_set()  # read before the pass, so the last pass sees every batch
            report.add(process_inbox(paths, store, classifier, batch_size))
            if last or report.error or os.getppid() != parent:
                return report
            stop.wait(poll)
    finally:
        store.close()


def _worker(
    paths: DataPaths,
    open_index: OpenIndex,
    stop: multiprocessing.synchronize.Event,
    parent: int,
    results: multiprocessing.queues.SimpleQueue,
) -> None:
    # Ctrl-C reaches the whole process group: the crawl's process stops the crawl and then
    # tells the worker to finish; SIGTERM alone (a service manager) ends it after a last pass.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        results.put(follow_inbox(paths, open_index, stop, parent))
    except Exception as e:  # the batches stay spooled; the pass after the crawl takes them
        logger.exception("the live indexer stopped")
        results.put(IndexReport(error=f"live indexer: {e}"))


class LiveIndexer:
    """A context manager: indexes the inbox in a worker process while its block runs, and on
    exit waits for the worker's last pass; `report` then holds what the worker indexed."""

    def __init__(self, paths: DataPaths, open_index: OpenIndex):
        self.paths = paths
        self.open_index = open_index
        self.report = IndexReport()
        context = _context()
        self._stop = context.Event()
        self._results = context.SimpleQueue()
        self._process = context.Process(
            target=_worker,
            args=(paths, open_index, self._stop, os.getpid(), self._results),
            name="yuqing-live-indexer",
            daemon=True,
        )

    @property
    def pid(self) -> int | None:
        """The worker's process id, once started."""
        return self._process.pid

    def __enter__(self) -> LiveIndexer:
        self._process.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._process.join()
        if not self._results.empty():
            self.report = self._results.get()
        else:
            self.report = IndexReport(error=f"live indexer exited with {self._process.exitcode}")
        if self.report.error:
            logger.warning(
                "indexing during the crawl stopped (%s); the rest is indexed after it",
                self.report.error,
            )
