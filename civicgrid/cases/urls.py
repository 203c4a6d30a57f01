"""Pages of the case loop (intake, queues, workbenches) are added here by their views."""

app_name = "cases"

urlpatterns: list = []
