"""What a picture really is, decided from its bytes (never from its name or declared type)."""

import io
import warnings

from PIL import Image, UnidentifiedImageError

ACCEPTED = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit


def sniff(data: bytes) -> tuple[str, str] | None:
    """``(content type, extension)`` of an acceptable, intact image; ``None`` otherwise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
                width, height = image.size
                image.verify()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ):
        return None
    if kind not in ACCEPTED or width * height > MAX_PIXELS:
        return None
    return ACCEPTED[kind]
