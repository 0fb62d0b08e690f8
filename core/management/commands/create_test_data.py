from core.management.commands.seed_demo_data import Command as SeedDemoDataCommand


class Command(SeedDemoDataCommand):
    help = "Alias of seed_demo_data (the name the original housing API uses)."
