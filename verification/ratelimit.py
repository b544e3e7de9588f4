"""Fixed-window counters in the cache.

allauth's rate limiter keeps a list of timestamps per key (read-modify-write, not atomic) and
does not say when the next try is allowed; these counters use the cache's atomic ``add`` and
``incr`` (atomic in Redis and in the local-memory cache), so parallel requests cannot exceed
a limit, and they report ``retry_after`` for the API's ``too_many_attempts`` errors.
"""

import hashlib
import math
import time

from django.core.cache import cache


def limit_consume(*, key: str, limit: int, period: int) -> int:
    """Count one use of ``key``; return 0 if allowed, else seconds until the window ends."""
    now = time.time()
    window = int(now // period)
    cache_key = "rl:" + hashlib.sha256(f"{key}:{period}:{window}".encode()).hexdigest()
    cache.add(cache_key, 0, timeout=period + 5)
    try:
        used = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=period + 5)
        used = 1
    if used <= limit:
        return 0
    return max(1, math.ceil((window + 1) * period - now))
