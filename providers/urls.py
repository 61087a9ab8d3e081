from django.urls import path

from . import views

urlpatterns = [
    path("<uuid:provider_id>/", views.dashboard, name="provider_dashboard"),
]
