"""How every long management command talks to a person or a script: one place, used by all of them.

- On a terminal: a rich progress bar per phase (count, rate, elapsed, time left when the total is
  known); log records are printed above the bar by a rich handler instead of breaking it.
- Piped (CI logs, `| tee`): no bar; one plain line per finished phase, and summaries at full
  width (tables fold long cells instead of cutting them to 80 columns).
- `--quiet`: nothing but errors. `--json`: one JSON document on stdout at the end (the summary and
  each phase's count, seconds and rate), nothing else on stdout.

rich decides "terminal" from the stream; FORCE_COLOR=1 (rich's own switch) forces it, e.g. in tests.
"""

import json
import logging
import os
import resource
import time
from contextlib import contextmanager

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

# Piped output has no width to fit; wide enough that a summary line or table row never wraps mid-word
# in a CI log, overridable with COLUMNS like any terminal program.
PIPED_WIDTH = 200


def add_output_arguments(parser):
    """The two switches every long command takes."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quiet", action="store_true", help="Print nothing but errors.")
    group.add_argument("--json", action="store_true", dest="json_summary",
                       help="Print one JSON summary on stdout at the end (for scripts), nothing else.")


def _stream(wrapper):
    # Django's OutputWrapper keeps the real stream in _out; call_command(stdout=StringIO()) passes one too.
    return getattr(wrapper, "_out", wrapper)


class Phase:
    """A running phase: advance() by a count, or set the count; rows and seconds feed the summary."""

    def __init__(self, name, total, unit, progress, task):
        self.name, self.total, self.unit = name, total, unit
        self.count = 0
        self.started = time.perf_counter()
        self.seconds = 0.0
        self.peak_rss_mb = None  # the process's peak so far, when the phase ended (memory budgets)
        self._progress, self._task = progress, task

    def advance(self, n=1):
        self.update(self.count + n)

    def update(self, count):
        self.count = count
        if self._progress is not None:
            elapsed = time.perf_counter() - self.started
            rate = f"{count / elapsed:,.0f}/s" if elapsed > 0.5 and count else ""
            self._progress.update(self._task, completed=count, rate=rate)

    @property
    def rate(self):
        return self.count / self.seconds if self.seconds > 0 else None

    def as_dict(self):
        return {"phase": self.name, "count": self.count, "unit": self.unit, "seconds": round(self.seconds, 3),
                "per_second": round(self.rate, 1) if self.rate else None, "peak_rss_mb": self.peak_rss_mb}

    def line(self):
        rate = f" ({self.rate:,.0f} {self.unit}/s)" if self.unit and self.rate and self.count else ""
        what = f"{self.count:,} {self.unit}" if self.unit else "done"
        return f"{self.name}: {what} in {self.seconds:.1f} s{rate}"


class CommandConsole:
    def __init__(self, stdout, stderr=None, *, quiet=False, json_summary=False):
        self.quiet, self.json = quiet, json_summary
        out = _stream(stdout)
        probe = Console(file=out)
        self.is_terminal = probe.is_terminal
        width = None if self.is_terminal else int(os.environ.get("COLUMNS") or PIPED_WIDTH)
        self.console = Console(file=out, width=width, soft_wrap=not self.is_terminal)
        self.err = Console(file=_stream(stderr), width=width, soft_wrap=True) if stderr is not None else self.console
        self.phases = []

    @classmethod
    def for_command(cls, command, options):
        return cls(command.stdout, command.stderr, quiet=options.get("quiet", False),
                   json_summary=options.get("json_summary", False))

    @property
    def human(self):
        """Whether human-readable lines go to stdout (not with --quiet or --json)."""
        return not (self.quiet or self.json)

    def print(self, *objects, **kwargs):
        if self.human:
            kwargs.setdefault("markup", False)
            kwargs.setdefault("highlight", False)
            self.console.print(*objects, **kwargs)

    def warn(self, message):
        """Warnings still reach a person running --quiet or --json (on stderr)."""
        self.err.print(message, markup=False, highlight=False)

    @contextmanager
    def phase(self, name, total=None, unit="rows"):
        """A step of the command; unit=None for a step without a count (a spinner and its time)."""
        show_bar = self.human and self.is_terminal
        progress = task = None
        if show_bar:
            columns = [SpinnerColumn(), TextColumn("{task.description}", style="bold", markup=False)]  # file names: no markup
            if total:
                columns += [BarColumn(), MofNCompleteColumn(), TaskProgressColumn()]
            elif unit:
                columns += [TextColumn("{task.completed:,.0f}")]
            if unit:
                columns += [TextColumn(unit, markup=False), TextColumn("{task.fields[rate]}")]
            columns.append(TimeElapsedColumn())
            if total:
                columns.append(TimeRemainingColumn())
            progress = Progress(*columns, console=self.console, transient=True, refresh_per_second=8)
            task = progress.add_task(name, total=total, rate="")
        current = Phase(name, total, unit, progress, task)
        with self._logging_above(progress):
            if progress is not None:
                progress.start()
            try:
                yield current
            finally:
                current.seconds = time.perf_counter() - current.started
                current.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # Linux: KiB
                if progress is not None:
                    progress.stop()
        self.phases.append(current)
        if self.human:
            self.console.print(current.line(), markup=False, highlight=False)

    @contextmanager
    def _logging_above(self, progress):
        """While a bar is shown, stream log handlers print through rich (above the bar), then come back."""
        if progress is None:
            yield
            return
        root = logging.getLogger()
        plain = [(i, h) for i, h in enumerate(root.handlers) if type(h) is logging.StreamHandler]
        rich = RichHandler(console=progress.console, show_path=False, markup=False)
        rich.setLevel(min((h.level for _, h in plain), default=logging.NOTSET))
        for _, handler in plain:
            root.removeHandler(handler)
        root.addHandler(rich)
        try:
            yield
        finally:
            root.removeHandler(rich)
            handlers = list(root.handlers)
            for index, handler in plain:  # back where they were
                handlers.insert(min(index, len(handlers)), handler)
            root.handlers[:] = handlers

    def table(self, title, columns, rows):
        """A summary table; long cells fold onto the next line instead of being cut with '…'."""
        table = Table(title=title)
        for name in columns:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*(str(v) for v in row))
        self.print(table)

    def finish(self, summary):
        """End of the command: the JSON document with --json (phases included)."""
        if self.json:
            document = dict(summary)
            document["phases"] = [p.as_dict() for p in self.phases]
            self.console.file.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
            self.console.file.flush()
