from django.core.management.base import BaseCommand

from cultivar.console import CommandConsole, add_output_arguments
from registry.models import IndustryChain, Region
from registry.reference import load_reference_data


class Command(BaseCommand):
    help = "Load or update regions (GB/T 2260) and industry chains from registry/data/*.csv."

    def add_arguments(self, parser):
        add_output_arguments(parser)

    def handle(self, *args, **options):
        out = CommandConsole.for_command(self, options)
        with out.phase("regions and chains", unit=None):
            loaded = load_reference_data(Region, IndustryChain)
        regions, chains = Region.objects.count(), IndustryChain.objects.count()
        out.print(f"{regions:,} regions, {chains:,} chains.")
        if loaded["regions_changed"]:
            out.print(f"{loaded['regions_changed']:,} regions renamed or moved: candidates are judged live "
                      "until `manage.py analytics_rebuild`.")
        out.finish({"regions": regions, "chains": chains, **loaded})
