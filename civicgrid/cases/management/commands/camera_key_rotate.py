"""`manage.py camera_key_rotate CODE`: give a camera a new device key and print it once.

For the demo and for installers: the seeded cameras' keys are random and never shown, so this
is how a person gets a key to post events with (README, "Camera events with curl"). The old
key stops working at once; the rotation is audited (actor: system). Staff can do the same
on the page /cases/cameras/.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.cases.cameras import camera_key_rotate
from civicgrid.cases.models import Camera


class Command(BaseCommand):
    help = "更换监控点位的设备密钥并打印新密钥(只显示一次,旧密钥立即失效)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="监控点位编号,例如 河下-037")
        parser.add_argument("--quiet", action="store_true", help="只打印密钥(便于脚本使用)")

    def handle(self, *args, code: str, quiet: bool = False, **options) -> None:
        camera = Camera.objects.filter(code=code.strip()).first()
        if camera is None:
            raise CommandError(f"没有编号为 {code} 的监控点位")
        raw = camera_key_rotate(camera=camera)
        if quiet:
            self.stdout.write(raw)
            return
        self.stdout.write(f"{camera.code} {camera.name} 的新设备密钥(只显示这一次,旧密钥已失效):")
        self.stdout.write(f"  {raw}")
        self.stdout.write("上报事件示例(小类编码见 /api/v1/cases/categories):")
        self.stdout.write(
            "  curl -X POST http://127.0.0.1:8000/api/v1/cameras/events "
            f"-H 'X-Device-Key: {raw}' -H 'Idempotency-Key: evt-0001' "
            "-F category=<小类编码> -F description='车辆堵塞消防通道' -F snapshot=@snapshot.jpg"
        )
