from django.urls import path

from . import views, views_import

app_name = "registry"

urlpatterns = [
    path("", views.people_list, name="people"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/reveal/", views.person_reveal, name="person_reveal"),
    path("people/<int:pk>/tags/", views.person_tag, name="person_tag"),
    path("people/<int:pk>/tags/<int:tag_id>/end/", views.person_untag, name="person_untag"),
    path("tag-fields/", views.tag_fields, name="tag_fields"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("overdue/", views.overdue, name="overdue"),
    path("coverage/", views.coverage, name="coverage"),
    path("export/", views_import.people_export, name="people_export"),
    path("visits/<int:pk>/case/", views_import.visit_to_case, name="visit_to_case"),
    path("import/", views_import.import_home, name="import"),
    path("import/template/<str:kind>/", views_import.import_template, name="import_template"),
    path("import/<int:pk>/", views_import.import_job, name="import_job"),
    path("import/<int:pk>/progress/", views_import.import_progress, name="import_progress"),
    path("import/<int:pk>/start/", views_import.import_start, name="import_start"),
    path("import/<int:pk>/cancel/", views_import.import_cancel, name="import_cancel"),
    path("import/<int:pk>/errors/", views_import.import_errors, name="import_errors"),
]
