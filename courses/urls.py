from django.urls import path

from courses import views

urlpatterns = [
    path("format/", views.format_guide, name="format_guide"),
    path("courses/new/", views.course_create, name="course_create"),
    path("courses/import/", views.ramp_upload, name="ramp_upload"),
    path("courses/<slug:slug>/", views.course_detail, name="course_detail"),
    path("courses/<slug:slug>/checks/", views.course_checks_view, name="course_checks"),
    path("courses/<slug:slug>/settings/", views.course_settings, name="course_settings"),
    path("courses/<slug:slug>/publish/", views.course_publish, name="course_publish"),
    path("courses/<slug:slug>/export.zip", views.course_export, name="course_export"),
    path("courses/<slug:slug>/concepts/new/", views.concept_create, name="concept_create"),
    path("courses/<slug:slug>/concepts/<slug:concept>/", views.concept_edit, name="concept_edit"),
    path(
        "courses/<slug:slug>/concepts/<slug:concept>/preview/",
        views.material_preview,
        name="material_preview",
    ),
    path("courses/<slug:slug>/concepts/<slug:concept>/items/new/", views.item_edit, name="item_create"),
    path(
        "courses/<slug:slug>/concepts/<slug:concept>/items/variants/",
        views.item_variants_preview,
        name="item_variants",
    ),
    path("courses/<slug:slug>/concepts/<slug:concept>/items/try/", views.item_try_answer, name="item_try"),
    path("courses/<slug:slug>/concepts/<slug:concept>/items/<slug:item>/", views.item_edit, name="item_edit"),
    path(
        "courses/<slug:slug>/concepts/<slug:concept>/items/<slug:item>/retire/",
        views.item_retire,
        name="item_retire",
    ),
]
