"""The one OpenAI client the whole application shares.

Created at import time; the SDK does not talk to the network until a request
is made, so a placeholder key is enough for tests and local runs.
"""

from __future__ import annotations

import os

from openai import OpenAI

from shopwise.core.config import settings

client = OpenAI(
    api_key=os.environ.get("OPENAI_API_KEY", "sk-test"),
    base_url=settings.OPENAI_BASE_URL,
    timeout=settings.OPENAI_TIMEOUT,
    max_retries=2,
)
