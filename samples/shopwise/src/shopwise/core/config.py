"""Application settings.

Everything configurable lives on one ``settings`` object that is filled from
the environment once, at import time. The shop code and the AI helpers both
read from it, which is convenient and also why it is hard to split up.
"""

from __future__ import annotations

import os


def _env_bool(name: str, default: bool = False) -> bool:
    raw = os.getenv(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_float(name: str, default: float) -> float:
    raw = os.getenv(name)
    try:
        return float(raw) if raw is not None else default
    except ValueError:
        return default


class Settings:
    """Flat bag of configuration values. Upper-case names, like Django."""

    def __init__(self) -> None:
        # --- general -------------------------------------------------------
        self.ENV: str = os.getenv("SHOPWISE_ENV", "development")
        self.DEBUG: bool = _env_bool("SHOPWISE_DEBUG")
        self.LOG_LEVEL: str = os.getenv("SHOPWISE_LOG_LEVEL", "INFO")
        self.SECRET_KEY: str = os.getenv("SHOPWISE_SECRET_KEY", "dev-secret-change-me")
        self.ACCESS_TOKEN_TTL_MINUTES: int = int(os.getenv("SHOPWISE_TOKEN_TTL", "120"))

        # --- storage -------------------------------------------------------
        self.DATABASE_URL: str = os.getenv("DATABASE_URL", "sqlite:///./shopwise.db")
        self.MEDIA_ROOT: str = os.getenv("SHOPWISE_MEDIA_ROOT", "./media")
        self.MEDIA_URL: str = "/media"
        self.CACHE_MAX_ITEMS: int = 2048

        # --- shop ----------------------------------------------------------
        self.CURRENCY: str = "EUR"
        self.VAT_RATE: float = _env_float("SHOPWISE_VAT_RATE", 0.21)
        self.INVOICE_PREFIX: str = "SW"
        self.PAYMENT_PROVIDER: str = "stripe"
        self.STRIPE_API_KEY: str = os.environ.get("STRIPE_API_KEY", "")
        self.STRIPE_API_BASE: str = "https://api.stripe.com"

        # --- AI: OpenAI ----------------------------------------------------
        self.OPENAI_API_KEY: str = os.environ.get("OPENAI_API_KEY", "")
        self.OPENAI_BASE_URL: str = os.getenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
        self.OPENAI_TIMEOUT: float = _env_float("OPENAI_TIMEOUT", 30.0)
        self.DESCRIPTION_MODEL: str = os.getenv("SHOPWISE_DESCRIPTION_MODEL", "gpt-4o-mini")
        self.SUPPORT_MODEL: str = os.getenv("SHOPWISE_SUPPORT_MODEL", "gpt-4o")
        self.EMBEDDING_MODEL: str = "text-embedding-3-small"
        self.EMBEDDING_DIM: int = 1536
        self.IMAGE_MODEL: str = "dall-e-3"
        self.IMAGE_SIZE: str = "1024x1024"

        # --- AI: Stability -------------------------------------------------
        self.IMAGE_BACKEND: str = os.getenv("SHOPWISE_IMAGE_BACKEND", "openai")
        self.STABILITY_API_BASE: str = os.getenv("STABILITY_API_BASE", "https://api.stability.ai")
        self.STABILITY_API_KEY: str = os.getenv("STABILITY_API_KEY", "")
        self.STABILITY_ENGINE: str = "stable-diffusion-xl-1024-v1-0"
        self.STABILITY_TIMEOUT: float = 60.0

        # --- search --------------------------------------------------------
        self.SEARCH_MIN_SCORE: float = 0.25
        self.SEARCH_CACHE_TTL: int = 300

        # Toggled at runtime from the admin API, so this dict is mutated in place.
        self.FEATURE_FLAGS: dict[str, bool] = {
            "ai_descriptions": True,
            "ai_images": True,
            "semantic_search": True,
            "support_assistant": True,
            "ticket_summaries": _env_bool("SHOPWISE_TICKET_SUMMARIES", True),
        }

    @property
    def is_production(self) -> bool:
        return self.ENV == "production"

    def ai_enabled(self) -> bool:
        """True when an OpenAI key is configured (tests run with a fake one)."""
        return bool(self.OPENAI_API_KEY)


settings = Settings()
