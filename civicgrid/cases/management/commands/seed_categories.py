"""`manage.py seed_categories`: the 事件/部件 category tree of DESIGN.md §3 (idempotent)."""

from django.core.management.base import BaseCommand

from civicgrid.cases.seed import categories_seed


class Command(BaseCommand):
    help = "生成事件/部件分类(已有分类保持不变,可重复运行)"

    def handle(self, *args, **options) -> None:
        created, kept = categories_seed()
        self.stdout.write(self.style.SUCCESS(f"案件分类:新增 {created},保留 {kept}"))
