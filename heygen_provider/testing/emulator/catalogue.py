"""The small catalogue of avatars, talking photos and voices the emulator lists.

The ids look like HeyGen's public stock ids so example DAGs read naturally. By default the emulator
accepts any id (users render their own custom avatars); with ``strict_catalogue`` only these exist.
"""

from __future__ import annotations

from typing import Any

STATIC_THUMBNAIL_PATH = "/media/static/thumbnail.jpg"
STATIC_VIDEO_PATH = "/media/static/sample.mp4"

AVATARS: tuple[dict[str, Any], ...] = (
    {"avatar_id": "Daisy-inskirt-20220818", "avatar_name": "Daisy", "gender": "female"},
    {"avatar_id": "Abigail_expressive_2024112501", "avatar_name": "Abigail", "gender": "female"},
    {"avatar_id": "Adrian_public_20240312", "avatar_name": "Adrian", "gender": "male"},
    {"avatar_id": "josh_lite3_20230714", "avatar_name": "Josh", "gender": "male"},
)

TALKING_PHOTOS: tuple[dict[str, Any], ...] = (
    {"talking_photo_id": "emulator_photo_0001", "talking_photo_name": "Emulator photo"},
)

VOICES: tuple[dict[str, Any], ...] = (
    {
        "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
        "language": "English",
        "gender": "female",
        "name": "Rachel - Friendly",
        "emotion_support": True,
    },
    {
        "voice_id": "1bd001e7e50f421d891986aad5158bc8",
        "language": "English",
        "gender": "male",
        "name": "Paul - Natural",
        "emotion_support": False,
    },
    {
        "voice_id": "131a436c47064f708210df6628ef8f32",
        "language": "English",
        "gender": "female",
        "name": "Amber - Lifelike",
        "emotion_support": True,
    },
    {
        "voice_id": "d7bbcdd6964c47bdaae26decade4a933",
        "language": "German",
        "gender": "male",
        "name": "Jonas - Calm",
        "emotion_support": False,
    },
)

AVATAR_IDS = frozenset(avatar["avatar_id"] for avatar in AVATARS)
TALKING_PHOTO_IDS = frozenset(photo["talking_photo_id"] for photo in TALKING_PHOTOS)
VOICE_IDS = frozenset(voice["voice_id"] for voice in VOICES)


def avatars_payload(base_url: str) -> dict[str, Any]:
    """The ``data`` of ``GET /v2/avatars``, with preview links served by the emulator itself.

    :param base_url: the emulator's base URL.
    """
    default_voice = VOICES[0]["voice_id"]
    avatars = [
        {
            **avatar,
            "preview_image_url": base_url + STATIC_THUMBNAIL_PATH,
            "preview_video_url": base_url + STATIC_VIDEO_PATH,
            "premium": False,
            "type": None,
            "tags": None,
            "default_voice_id": default_voice,
        }
        for avatar in AVATARS
    ]
    photos = [{**photo, "preview_image_url": base_url + STATIC_THUMBNAIL_PATH} for photo in TALKING_PHOTOS]
    return {"avatars": avatars, "talking_photos": photos}


def voices_payload() -> dict[str, Any]:
    """The ``data`` of ``GET /v2/voices``."""
    voices = [
        {
            **voice,
            "preview_audio": None,
            "support_pause": True,
            "support_interactive_avatar": False,
            "support_locale": False,
        }
        for voice in VOICES
    ]
    return {"voices": voices}


# v3 listings ------------------------------------------------------------------------------------

#: The engines every look in the catalogue supports for ``POST /v3/videos``.
STUDIO_ENGINES = ["avatar_iv", "avatar_v", "avatar_iii"]
PHOTO_ENGINES = ["avatar_iv", "avatar_iii"]
#: The catalogue's avatars were created when HeyGen's stock avatars were (a fixed time, 2024-03-12).
CREATED_AT = 1_710_201_600


def _group_id(name: str) -> str:
    return f"{name.lower().replace(' ', '_')}_group"


def v3_looks(base_url: str) -> list[dict[str, Any]]:
    """The items of ``GET /v3/avatars/looks``: the avatars (studio avatars) and talking photos (photo avatars).

    :param base_url: the emulator's base URL, for the preview links.
    """
    default_voice = VOICES[0]["voice_id"]
    previews: dict[str, Any] = {
        "preview_image_url": base_url + STATIC_THUMBNAIL_PATH,
        "preview_video_url": base_url + STATIC_VIDEO_PATH,
        "status": None,
        "error": None,
        "tags": [],
    }
    looks = [
        {
            "id": avatar["avatar_id"],
            "name": avatar["avatar_name"],
            "avatar_type": "studio_avatar",
            "group_id": _group_id(avatar["avatar_name"]),
            "gender": avatar["gender"],
            "default_voice_id": default_voice,
            "supported_api_engines": STUDIO_ENGINES,
            "image_width": 1920,
            "image_height": 1080,
            "preferred_orientation": "landscape",
            **previews,
        }
        for avatar in AVATARS
    ]
    looks += [
        {
            "id": photo["talking_photo_id"],
            "name": photo["talking_photo_name"],
            "avatar_type": "photo_avatar",
            "group_id": _group_id(photo["talking_photo_name"]),
            "gender": None,
            "default_voice_id": None,
            "supported_api_engines": PHOTO_ENGINES,
            "image_width": 1080,
            "image_height": 1920,
            "preferred_orientation": "portrait",
            **previews,
        }
        for photo in TALKING_PHOTOS
    ]
    return looks


def v3_avatar_groups(base_url: str) -> list[dict[str, Any]]:
    """The items of ``GET /v3/avatars``: one group per look of :func:`v3_looks`.

    :param base_url: the emulator's base URL, for the preview links.
    """
    return [
        {
            "id": look["group_id"],
            "name": look["name"],
            "created_at": CREATED_AT,
            "looks_count": 1,
            "default_voice_id": look["default_voice_id"],
            "gender": look["gender"],
            "preview_image_url": look["preview_image_url"],
            "preview_video_url": look["preview_video_url"],
            "consent_status": None,
            "status": None,
            "error": None,
        }
        for look in v3_looks(base_url)
    ]


def v3_voices() -> list[dict[str, Any]]:
    """The items of ``GET /v3/voices``."""
    return [
        {
            "voice_id": voice["voice_id"],
            "name": voice["name"],
            "language": voice["language"],
            "gender": voice["gender"],
            "support_pause": True,
            "support_locale": False,
            "type": "public",
            "preview_audio_url": None,
        }
        for voice in VOICES
    ]
