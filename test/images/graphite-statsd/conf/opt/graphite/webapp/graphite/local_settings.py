# Stand-in default: the graphite-web settings graphiteapp/graphite-statsd:1.1.10-5 sets, each read from the same
# environment variable with the same default (values only). Everything else keeps graphite-web's own default.
import os

_env = os.environ.get


def _bool(name, default):
    return _env(name, default).lower() in ("1", "true", "yes")


def _int(name, default):
    return int(_env(name, default))


def _float(name, default):
    return float(_env(name, default))


def _int_or(name, default):  # unset or empty: the default
    return int(_env(name) or default)


def _hosts(name, default):
    return [host.strip() for host in _env(name, default).split(",")]


# Web server and logging
ALLOWED_HOSTS = _hosts("GRAPHITE_ALLOWED_HOSTS", "*")
TIME_ZONE = _env("GRAPHITE_TIME_ZONE", "Etc/UTC")
DATE_FORMAT = _env("GRAPHITE_DATE_FORMAT", "%m/%d")
URL_PREFIX = str(_env("GRAPHITE_URL_ROOT", ""))
DEBUG = _bool("GRAPHITE_DEBUG", "false")
SECRET_KEY = _env("GRAPHITE_SECRET_KEY", "$(date +%s | sha256sum | base64 | head -c 64)")  # literally this text
LOG_DIR = "/var/log/graphite"
LOG_ROTATION = _bool("GRAPHITE_LOG_ROTATION", "false")
LOG_ROTATION_COUNT = _int("GRAPHITE_LOG_ROTATION_COUNT", "1")
LOG_RENDERING_PERFORMANCE = _bool("GRAPHITE_LOG_RENDERING_PERFORMANCE", "true")
LOG_CACHE_PERFORMANCE = _bool("GRAPHITE_LOG_CACHE_PERFORMANCE", "true")
LOG_INFO_PERFORMANCE = _bool("GRAPHITE_LOG_INFO_PERFORMANCE", "false")
LOG_FILE_INFO = _env("GRAPHITE_LOG_FILE_INFO", "info.log")
LOG_FILE_EXCEPTION = _env("GRAPHITE_LOG_FILE_EXCEPTION", "exception.log")
LOG_FILE_CACHE = _env("GRAPHITE_LOG_FILE_CACHE", "cache.log")
LOG_FILE_RENDERING = _env("GRAPHITE_LOG_FILE_RENDERING", "rendering.log")

# Data, caching and functions
DEFAULT_CACHE_DURATION = _int("GRAPHITE_DEFAULT_CACHE_DURATION", "60")
if _env("DEFAULT_CACHE_DURATION") is not None:
    # As in the real image: setting DEFAULT_CACHE_DURATION makes the value come from CACHE_DURATION.
    DEFAULT_CACHE_DURATION = int(_env("CACHE_DURATION"))
if _env("MEMCACHE_HOST") is not None:
    MEMCACHE_HOSTS = _env("MEMCACHE_HOST").split(",")
DEFAULT_XFILES_FACTOR = 0
UTF8_METRICS = _bool("GRAPHITE_UTF8_METRICS", "false")
FUNCTION_PLUGINS = []

# Cluster (none by default) and the local carbon-cache
CLUSTER_SERVERS = [host for host in _hosts("GRAPHITE_CLUSTER_SERVERS", "") if host]
USE_WORKER_POOL = _bool("GRAPHITE_USE_WORKER_POOL", "true")
REMOTE_FIND_TIMEOUT = _float("GRAPHITE_REMOTE_FIND_TIMEOUT", "30")
REMOTE_FETCH_TIMEOUT = _float("GRAPHITE_REMOTE_FETCH_TIMEOUT", "60")
REMOTE_RETRY_DELAY = _float("GRAPHITE_REMOTE_RETRY_DELAY", "0")
REMOTE_EXCLUDE_LOCAL = False
MAX_FETCH_RETRIES = _int("GRAPHITE_MAX_FETCH_RETRIES", "2")
FIND_CACHE_DURATION = _int("GRAPHITE_FIND_CACHE_DURATION", "1")
REMOTE_BUFFER_SIZE = _int("GRAPHITE_REMOTE_BUFFER_SIZE", "1048576")
CARBONLINK_HOSTS = _hosts("GRAPHITE_CARBONLINK_HOSTS", "127.0.0.1:7002")
CARBONLINK_TIMEOUT = _float("GRAPHITE_CARBONLINK_TIMEOUT", "1")
CARBONLINK_HASHING_TYPE = _env("GRAPHITE_CARBONLINK_HASHING_TYPE", "carbon_ch")
REPLICATION_FACTOR = _int("GRAPHITE_REPLICATION_FACTOR", "1")

# Tag database: graphite-web's local database, or redis when REDIS_TAGDB is true
if _bool("REDIS_TAGDB", "false"):
    TAGDB = "graphite.tags.redis.RedisTagDB"
else:
    TAGDB = _env("GRAPHITE_TAGDB", "graphite.tags.localdatabase.LocalDatabaseTagDB")
TAGDB_CACHE_DURATION = _int_or("GRAPHITE_TAGDB_CACHE_DURATION", 60)
TAGDB_AUTOCOMPLETE_LIMIT = _int_or("GRAPHITE_TAGDB_AUTOCOMPLETE_LIMIT", 100)
TAGDB_REDIS_HOST = _env("GRAPHITE_TAGDB_REDIS_HOST", "localhost")
TAGDB_REDIS_PORT = _int_or("GRAPHITE_TAGDB_REDIS_PORT", 6379)
TAGDB_REDIS_DB = _int_or("GRAPHITE_TAGDB_REDIS_DB", 0)
TAGDB_HTTP_URL = _env("GRAPHITE_TAGDB_HTTP_URL", "")
TAGDB_HTTP_USER = _env("GRAPHITE_TAGDB_HTTP_USER", "")
TAGDB_HTTP_PASSWORD = _env("GRAPHITE_TAGDB_HTTP_PASSWORD", "")
TAGDB_HTTP_AUTOCOMPLETE = _bool("GRAPHITE_TAGDB_HTTP_AUTOCOMPLETE", "false")

# graphite-web reports its own request timings to the local statsd (django-statsd) unless GRAPHITE_STATSD_HOST is
# set to an empty string. Django's settings are loaded here so that the two middlewares can go first.
STATSD_HOST = _env("GRAPHITE_STATSD_HOST", "127.0.0.1")
if STATSD_HOST != "":
    from graphite.app_settings import *  # noqa: F401,F403

    MIDDLEWARE = (
        "django_statsd.middleware.GraphiteRequestTimingMiddleware",
        "django_statsd.middleware.GraphiteMiddleware",
    ) + MIDDLEWARE  # noqa: F405

del _env, _bool, _int, _float, _int_or, _hosts
