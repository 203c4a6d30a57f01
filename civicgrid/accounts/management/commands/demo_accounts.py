"""Print the demo login accounts (`make run` calls this after seeding Hexia).

The table is read from the database, so it shows what the seeder really created: each demo
user's role assignments with their scope. The constants live here, on the accounts side, so
that the grids seeder can import them without accounts depending on grids.
"""

from django.core.management.base import BaseCommand

from civicgrid.accounts.models import User

# A deliberately simple password shared by every demo account. It is set without the password
# validators and is only for the local demo: never load the demo into a real deployment.
DEMO_PASSWORD = "hexia12345"

# Username → what the account is for, in the order the table is printed.
DEMO_USERNAMES: tuple[str, ...] = (
    "admin",
    "operator",
    "handler_cg",
    "gridleader",
    "instructor",
    "gridworker",
    "functional",
    "supervisor",
    "leader",
    "resident",
)


def demo_account_rows() -> list[tuple[str, str, str, str]]:
    """(username, role, scope, password) for every demo account present in the database."""
    users = User.objects.filter(username__in=DEMO_USERNAMES).prefetch_related(
        "assignments__region", "assignments__department"
    )
    by_name = {u.username: u for u in users}
    rows = []
    for username in DEMO_USERNAMES:
        user = by_name.get(username)
        if user is None:
            continue
        for role, scope in _roles_and_scopes(user):
            rows.append((username, role, scope, DEMO_PASSWORD))
    return rows


def _roles_and_scopes(user: User) -> list[tuple[str, str]]:
    out = []
    for a in sorted(user.assignments.all(), key=lambda a: (a.role, a.region_id)):
        scope = f"{a.region.name} {a.region.code}"
        if a.department is not None:
            scope += f" · {a.department.name}"
        out.append((a.get_role_display(), scope))
    if user.is_superuser:
        out.insert(0, ("超级用户", "全部"))
    return out or [("(无角色)", "-")]


def _width(text: str) -> int:
    """Display width: CJK characters take two terminal columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = "列出演示账号(用户名、角色、范围、密码)"

    def handle(self, *args, **options) -> None:
        rows = demo_account_rows()
        if not rows:
            self.stdout.write("尚无演示账号,请先运行 manage.py seed_demo")
            return
        header = ("用户名", "角色", "范围", "密码")
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(4)]
        self.stdout.write("演示账号(仅供本地演示,密码为公开的演示密码):")
        for row in [header, *rows]:
            self.stdout.write(
                "  " + "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True))
            )
