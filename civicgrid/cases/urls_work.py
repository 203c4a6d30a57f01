"""Queues, workbenches and case detail pages (views in cases/views/work*.py)."""

from django.urls import path

from .views import work, work_actions, work_centre, work_dept, work_grid, work_inbox, work_resident

urlpatterns = [
    path("", work.workbench, name="workbench"),
    path("centre/", work_centre.centre, name="centre"),
    path("dept/", work_dept.dept, name="dept"),
    path("grid/", work_grid.grid, name="grid"),
    path("mine/", work_resident.mine, name="mine"),
    path("mine/<int:pk>/", work_resident.mine_case, name="mine_case"),
    path("inbox/", work_inbox.inbox, name="inbox"),
    path("inbox/read-all/", work_inbox.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/", work_inbox.inbox_open, name="inbox_open"),
    path("<int:pk>/", work.case_page, name="case"),
    path("<int:pk>/panel/", work.case_panel, name="case_panel"),
    path("<int:pk>/do/<slug:action>/", work_actions.case_action, name="case_action"),
    path("photos/<int:pk>/", work.photo, name="photo"),
]
