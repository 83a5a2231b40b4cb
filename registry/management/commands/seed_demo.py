import datetime

from django.core.management.base import BaseCommand, CommandError

from cultivar.console import CommandConsole, add_output_arguments
from registry.demo.generator import STORY_TOTAL, REST_FLOOR, DemoGenerator, small_size
from registry.demo.memory import phase_memory
from registry.models import Firm


class Command(BaseCommand):
    help = ("Generate a deterministic demo registry: 昆山 and 无锡 at the size their plans need, the rest of "
            "Jiangsu lighter, ladder histories from 2017 to today; then the analytics tables and the search index.")

    def add_arguments(self, parser):
        size = parser.add_mutually_exclusive_group()
        size.add_argument("--firms", type=int, default=40000,
                          help=f"How many firms (default 40000, as `make demo`; at least {STORY_TOTAL + REST_FLOOR:,} for 昆山 and 无锡 "
                               "at full size, fewer shrinks every region alike).")
        size.add_argument("--small", action="store_true",
                          help=f"About {small_size():,} firms for tests: 昆山 at full size, the rest thin.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--chunk-size", type=int, default=5000)
        parser.add_argument("--today", type=datetime.date.fromisoformat, help="Evaluate statuses as of this date.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the registry already has firms.")
        parser.add_argument("--no-index", action="store_true", help="Skip rebuilding the search index afterwards.")
        add_output_arguments(parser)

    def handle(self, *args, firms, small, seed, chunk_size, today, if_empty, no_index, **options):
        out = CommandConsole.for_command(self, options)
        if firms < 1:
            raise CommandError("--firms must be at least 1.")
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        if if_empty and Firm.objects.exists():
            existing = Firm.objects.count()
            out.print(f"The registry already holds {existing:,} firms; nothing generated (seed_demo --if-empty).")
            out.finish({"generated": False, "existing_firms": existing})
            return
        generator = DemoGenerator(seed=seed, today=today)
        total = small_size() if small else firms
        # Each phase's own peak, private and file-backed apart (peak_rss_mb is the process's so far):
        # so a run at 50,000 and one at 1,000,000 firms show which phase's memory grows.
        with phase_memory(out) as memory:
            with out.phase("firms", total=total, unit="firms") as phase:
                counts = generator.generate(firms, chunk_size=chunk_size, small=small, rebuild=False,
                                            progress=phase.advance)
            if generator.scale < 1:
                out.warn(f"Note: {firms:,} firms is below the {STORY_TOTAL + REST_FLOOR:,} the plans need: 昆山 and 无锡 "
                         f"were shrunk to {generator.scale:.0%}, so their targets read low.")
            generator.rebuild_derived(step=lambda name: out.phase(name, unit=None))
            if not no_index:
                from search.management.commands.search_reindex import reindex

                reindex(out)
        peaks = memory.phase_peaks([p.name for p in out.phases])
        out.print("Peak memory per phase (this process and its children): " + "; ".join(
            f"{m['phase']} {m['peak_total_mb']:,} MB (private {m['peak_private_mb']:,}, file-backed {m['peak_file_backed_mb']:,})"
            for m in peaks))
        out.print(f"Generated {counts['firms']:,} firms, {counts['certifications']:,} recognitions, "
                  f"{counts['indicators']:,} indicator rows and {counts['chain_links']:,} chain links "
                  f"(seed {seed}, as of {generator.today}).")
        out.finish({"generated": True, "seed": seed, "today": generator.today.isoformat(), "scale": generator.scale,
                    **counts, "phase_memory": peaks})
