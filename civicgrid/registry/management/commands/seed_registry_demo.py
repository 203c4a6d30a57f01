"""`manage.py seed_registry_demo [--seed N]`: the Hexia registry demo, after `seed_demo`."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.registry.demo import DEFAULT_SEED, seed_registry_demo


class Command(BaseCommand):
    help = "生成河下街道人口、房屋、单位、部件、台账和走访演示数据(需先运行 seed_demo;可重复运行)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子")

    def handle(self, *args, seed: int = DEFAULT_SEED, **options) -> None:
        try:
            result = seed_registry_demo(seed=seed)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if not result.total:
            self.stdout.write("登记演示数据已存在,没有改动")
            return
        parts = ", ".join(f"{k} {v}" for k, v in sorted(result.created.items()))
        self.stdout.write(self.style.SUCCESS(f"河下街道登记演示数据已生成(seed {seed}):{parts}"))
