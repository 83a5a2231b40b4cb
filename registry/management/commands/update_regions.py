from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registry.data import build


class Command(BaseCommand):
    help = ("Re-derive registry/data/regions.csv and region_history.csv from the published GB/T 2260 code "
            "lists (see registry/data/README.md), then load them unless --no-load.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", required=True,
                            help="the areacodes summary table (result.csv): every code since 1981 and its successors")
        parser.add_argument("--parks", help="optional NBS county-level list (code,name,cityCode,provinceCode) "
                                            "whose xx7x codes become parks")
        parser.add_argument("--no-load", action="store_true", help="only rewrite the CSV files")
        parser.add_argument("--out", help="write the files into this folder instead of registry/data (implies --no-load)")
        parser.add_argument("--local", help="the hand-kept rows and aliases (default: registry/data/regions_local.csv)")

    def handle(self, *args, source, parks=None, no_load=False, out=None, local=None, **options):
        paths = [Path(source)] + ([Path(parks)] if parks else [])
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        try:
            kwargs = {**({"out_dir": Path(out)} if out else {}), **({"local_path": Path(local)} if local else {})}
            counts = build.update(paths[0], paths[1] if parks else None, **kwargs)
        except (ValueError, KeyError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write("regions.csv: {regions} rows ({province} provinces, {city} cities, {district} counties, "
                          "{park} parks); region_history.csv: {history} retired codes.".format(
                              **{"province": 0, "city": 0, "district": 0, "park": 0, **counts}))
        if not (no_load or out):
            from registry.data import clear_caches  # the files changed under the cached indexes
            from registry.models import IndustryChain, Region
            from registry.reference import load_reference_data

            clear_caches()
            loaded = load_reference_data(Region, IndustryChain)
            self.stdout.write(f"Loaded: {Region.objects.count()} regions.")
            if loaded["regions_changed"]:
                self.stdout.write(f"{loaded['regions_changed']} regions renamed or moved: candidates are judged "
                                  "live until `manage.py analytics_rebuild`.")
