"""`manage.py holidays_sync [--years 2024-2026]`: seed the holiday table from chinesecalendar."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.holidays import holidays_sync


def parse_years(text: str) -> range:
    try:
        first, _, last = text.partition("-")
        lo, hi = int(first), int(last or first)
    except ValueError as exc:
        raise CommandError("年份格式应为 2024-2026 或 2025") from exc
    if hi < lo:
        raise CommandError("结束年份不能早于开始年份")
    return range(lo, hi + 1)


class Command(BaseCommand):
    help = "从 chinesecalendar 同步法定节假日和调休上班日(管理员修改过的日期不会被覆盖)"

    def add_arguments(self, parser: CommandParser) -> None:
        this_year = dt.date.today().year
        parser.add_argument(
            "--years", default=f"{this_year - 2}-{this_year + 1}", help="年份范围,如 2024-2026"
        )

    def handle(self, *args, years: str, **options) -> None:
        result = holidays_sync(years=parse_years(years))
        self.stdout.write(
            self.style.SUCCESS(
                f"节假日同步完成:新增 {result.created},更新 {result.updated},"
                f"保留管理员修改 {result.kept_admin}"
            )
        )
        if result.missing_years:
            missing = "、".join(str(y) for y in result.missing_years)
            self.stdout.write(
                self.style.WARNING(
                    f"{missing} 年尚无公布的节假日安排:这些年份的期限按工作日计算并标记为暂定"
                )
            )
