"""The tutorial's URLs."""
from django.urls import path
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from .views import HelloView, PingView

# ANCHOR: urls
urlpatterns = [
    path("api/token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("api/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("hello/", HelloView.as_view(), name="hello"),
    path("ping/", PingView.as_view(), name="ping"),
]
# ANCHOR_END: urls
