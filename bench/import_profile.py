"""Where an import's time goes: run bench/import_firms.py or bench/import_recognitions.py with phase timings.

For every import the benchmark runs it prints the wall time, each SQL statement that took 50 ms or
more (the set-based writes of registry.services.staged, the stage's index and ANALYZE, the duplicate
and scope checks), the COMMIT (deferred foreign-key checks) and the Python functions with the most
cumulative time (cProfile: reading, checking, staging COPY, side effects). With --explain, every write
statement on the import's TEMP tables is first run under EXPLAIN (ANALYZE, BUFFERS) in a savepoint
that is rolled back, and the plans are written to --explain-out: the import then takes about twice as
long, so its times are only a split, not a result.

    scripts/with-services .venv/bin/python bench/import_profile.py bench/import_firms.py --rows 100000 --fresh
    scripts/with-services .venv/bin/python bench/import_profile.py --explain bench/import_recognitions.py --rows 100000 --fresh --no-rerun
"""

import cProfile
import io
import os
import pstats
import runpy
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")

SLOW = 0.05  # seconds: statements below this are not listed


def main():
    args = sys.argv[1:]
    explain_out = None
    if args and args[0] == "--explain":
        args = args[1:]
        explain_out = "import_plans.txt"
        if args and args[0].startswith("--explain-out="):
            explain_out, args = args[0].split("=", 1)[1], args[1:]
    if not args or not args[0].endswith(".py"):
        sys.exit(__doc__)
    bench, sys.argv = args[0], args

    import django

    setup, statements = django.setup, []

    def profiled_setup(*a, **k):
        setup(*a, **k)
        from django.db import connection

        from importers import services

        # open for the whole run (the benchmark's imports write into it); closed when the process ends
        plans = open(explain_out, "w", encoding="utf-8") if explain_out else None  # noqa: SIM115

        def timed(execute, sql, params, many, context):
            text = sql.lstrip()
            if plans and not many and connection.in_atomic_block and "import_fast" in text \
                    and text.startswith(("WITH", "UPDATE", "INSERT")):
                raw = context["cursor"].cursor
                raw.execute("SAVEPOINT import_profile")
                raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plans.write(" ".join(text.split())[:300] + "\n" + "\n".join(r[0] for r in raw.fetchall()) + "\n\n")
                plans.flush()
                raw.execute("ROLLBACK TO SAVEPOINT import_profile")
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                seconds = time.perf_counter() - started
                if seconds >= SLOW:
                    statements.append((seconds, " ".join(text.split())[:140]))

        connection.execute_wrappers.append(timed)
        real_import, real_commit = services.import_file, connection.commit

        def commit(*a, **k):
            started = time.perf_counter()
            try:
                return real_commit(*a, **k)
            finally:
                statements.append((time.perf_counter() - started, "COMMIT (deferred foreign-key checks)"))

        def import_file(*a, **k):
            statements.clear()
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            try:
                return real_import(*a, **k)
            finally:
                profile.disable()
                print(f"--- profile: import {time.perf_counter() - started:.2f} s; statements ≥ {SLOW * 1000:.0f} ms:")
                for seconds, text in statements:
                    if seconds >= SLOW:
                        print(f"  {seconds:7.2f} s  {text}")
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(r"importers|registry|search", 30)
                print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])
                out = io.StringIO()  # and where the time is spent itself (pandas, numpy, the driver)
                pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
                print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:4000])

        connection.commit = commit
        services.import_file = import_file

    django.setup = profiled_setup
    runpy.run_path(bench, run_name="__main__")


if __name__ == "__main__":
    main()
