"""Request, status and answer models: one source of truth for the sync and async paths."""

from __future__ import annotations

from heygen_provider.models.request import (
    DIMENSION_PRESETS,
    Background,
    Character,
    Dimension,
    Offset,
    VideoGenerateRequest,
    VideoInput,
    Voice,
)
from heygen_provider.models.responses import AvatarList, CreatedVideo, RemainingQuota, VoiceList
from heygen_provider.models.status import (
    SERVICE_STATUS_MAP,
    VideoError,
    VideoStatus,
    VideoStatusResponse,
    map_service_status,
)

__all__ = [
    "DIMENSION_PRESETS",
    "SERVICE_STATUS_MAP",
    "AvatarList",
    "Background",
    "Character",
    "CreatedVideo",
    "Dimension",
    "Offset",
    "RemainingQuota",
    "VideoError",
    "VideoGenerateRequest",
    "VideoInput",
    "VideoStatus",
    "VideoStatusResponse",
    "Voice",
    "VoiceList",
    "map_service_status",
]
