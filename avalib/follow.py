"""The runner's view of a kernel's progress: a notebook kernel has no terminal (its stderr is the
notebook), so it writes progress lines to a file (``$AVALIB_PROGRESS``, ``avalib.training.log``)
and ``Follow`` copies what is appended there to the runner's own stdout while the kernel runs."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TextIO


class Follow:
    """``with Follow(path):`` copies text appended to ``path`` to ``stream`` (stdout) every
    ``interval`` seconds, and what is left when the block ends."""

    def __init__(self, path: Path, stream: TextIO | None = None, interval: float = 0.5):
        self.path, self.stream, self.interval = path, stream or sys.stdout, interval
        self.stopped, self.position = threading.Event(), 0

    def _copy(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "r", errors="replace") as source:
            source.seek(self.position)
            text = source.read()
            self.position = source.tell()
        if text:
            self.stream.write(text)
            self.stream.flush()

    def _loop(self) -> None:
        while not self.stopped.wait(self.interval):
            self._copy()

    def __enter__(self) -> "Follow":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()
        self._copy()
