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
    ``interval`` seconds, and what is left when the block ends, each line after ``prefix`` (e.g.
    the notebook's name, where several notebooks write to one terminal)."""

    def __init__(self, path: Path, stream: TextIO | None = None, interval: float = 0.5, prefix: str = ""):
        self.path, self.stream, self.interval, self.prefix = path, stream or sys.stdout, interval, prefix
        self.stopped, self.position, self.line_start = threading.Event(), 0, True

    def _copy(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "r", errors="replace") as source:
            source.seek(self.position)
            text = source.read()
            self.position = source.tell()
        if text:
            lines = text.splitlines(keepends=True)
            self.stream.write("".join((self.prefix if start else "") + line for start, line in
                                      zip([self.line_start, *(l.endswith("\n") for l in lines[:-1])], lines)))
            self.line_start = lines[-1].endswith("\n")
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
