"""`manage.py seed_demo [--if-empty] [--seed N]`: load the Hexia Street demo (DESIGN.md §5)."""

from django.core.management.base import BaseCommand, CommandParser

from civicgrid.grids.demo import DEFAULT_SEED, demo_exists, seed_demo


class Command(BaseCommand):
    help = "生成河下街道演示数据(可重复运行;已有数据不会改动)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true",
            help="数据库中已有街道时什么也不做(make run 首次启动时用)",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子")

    def handle(self, *args, if_empty: bool = False, seed: int = DEFAULT_SEED, **options) -> None:
        if if_empty and demo_exists():
            self.stdout.write("已有街道数据,跳过演示数据生成")
            return
        result = seed_demo(seed=seed)
        if not result.total:
            self.stdout.write("演示数据已存在,没有改动")
            return
        parts = ", ".join(f"{k} {v}" for k, v in sorted(result.created.items()))
        self.stdout.write(self.style.SUCCESS(f"河下街道演示数据已生成(seed {seed}):{parts}"))
