"""The tutorial's project, as a benchmark peer: DRF + simplejwt with simplejwt's default
settings, DEBUG off, SQLite. `PEER_PASSWORD_HASHER=bcrypt` switches Django's default hasher
(PBKDF2) for bcrypt at cost 12, to compare logins at equal cost."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("PEER_SECRET_KEY", "benchmark-peer-secret-key-0123456789abcdef")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "rest_framework_simplejwt",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PEER_DATABASE", str(BASE_DIR / "db.sqlite3")),
    }
}

if os.environ.get("PEER_PASSWORD_HASHER") == "bcrypt":
    # BCryptSHA256PasswordHasher uses bcrypt's default cost, 12: the same as the Rust server.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.BCryptSHA256PasswordHasher"]

# ANCHOR: rest_framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": (
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ),
    "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
}
# ANCHOR_END: rest_framework

USE_TZ = True
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
