"""`manage.py seed_cases_demo [--seed N]`: Hexia's case loop demo, after `seed_demo`
(categories, responsibility list, 137 cameras, four months of cases in every state)."""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.cases.demo import DEFAULT_SEED, seed_cases_demo

# The seeded cameras' device keys are random and never shown (only their hash is stored).
CAMERA_KEY_HINT = (
    "监控设备密钥:运行 manage.py camera_key_rotate 河下-037 获取新密钥,"
    "或以指挥中心账号在 /cases/cameras/ 页面更换(README「监控事件」一节有 curl 示例)"
)


class Command(BaseCommand):
    help = "生成河下街道案件演示数据(分类、权责清单、137 个监控点位、近四个月各状态案件;可重复运行)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子")

    def handle(self, *args, seed: int = DEFAULT_SEED, **options) -> None:
        started = time.monotonic()
        try:
            result = seed_cases_demo(seed=seed)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        parts = ", ".join(f"{k} {v}" for k, v in sorted(result.created.items()) if v)
        took = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"案件演示数据({took:.1f} 秒):{parts or '已存在,没有改动'}")
        )
        self.stdout.write(CAMERA_KEY_HINT)
