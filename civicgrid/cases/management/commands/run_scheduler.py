"""`manage.py run_scheduler [--once] [--interval S]`: the periodic loop (deadlines, 督办).

Like healthchecks' `sendalerts`: a plain loop over small idempotent steps
(civicgrid/cases/scheduler.py). SIGTERM or Ctrl-C ends it after the current pass.
"""

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from civicgrid.cases.scheduler import run_once


class Command(BaseCommand):
    help = "定时任务循环:超时督办(黄牌/红牌)等"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="只运行一轮")
        parser.add_argument(
            "--interval", type=float, default=settings.SCHEDULER_INTERVAL_SECONDS, help="间隔秒数"
        )

    def handle(self, *args, once: bool = False, interval: float = 60.0, **options) -> None:
        self.stopping = False
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self.stopping:
                done = run_once(timezone.now())
                self.stdout.write(" ".join(f"{k}={v}" for k, v in done.items()))
                if once:
                    break
                self._sleep(interval)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("定时任务已停止")

    def _stop(self, signum, frame) -> None:
        self.stopping = True

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            time.sleep(min(0.5, end - time.monotonic()))
