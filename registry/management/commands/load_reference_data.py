from django.core.management.base import BaseCommand

from registry.models import IndustryChain, Region
from registry.reference import load_reference_data


class Command(BaseCommand):
    help = "Load or update regions (GB/T 2260) and industry chains from registry/data/*.csv."

    def handle(self, *args, **options):
        load_reference_data(Region, IndustryChain)
        self.stdout.write(f"{Region.objects.count()} regions, {IndustryChain.objects.count()} chains.")
