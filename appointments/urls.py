from django.urls import path

from . import exports, feeds, views

app_name = "appointments"

urlpatterns = [
    path("", views.calendar_day, name="day"),
    path("print/", views.calendar_day, name="day_print"),
    path("week/", views.calendar_week, name="week"),
    path("find/", views.find_slots, name="find"),
    path("types.css", views.type_styles, name="type_styles"),
    path("book/", views.appointment_create, name="create"),
    path("book/patients/", views.patient_picker, name="patient_picker"),
    path("series/", views.series_create, name="series_create"),
    path("<int:pk>/", views.appointment_detail, name="detail"),
    path("<int:pk>/move/", views.appointment_move, name="move"),
    path("<int:pk>/cancel/", views.appointment_cancel, name="cancel"),
    path("<int:pk>/status/", views.appointment_status, name="status"),
    path("<int:pk>/offer/<int:entry_pk>/", views.waitlist_offer, name="waitlist_offer"),
    path("waitlist/", views.waitlist, name="waitlist"),
    path("waitlist/new/", views.waitlist_create, name="waitlist_create"),
    path("waitlist/<int:entry_pk>/withdraw/", views.waitlist_withdraw, name="waitlist_withdraw"),
    *feeds.urlpatterns,
    *exports.urlpatterns,
]
