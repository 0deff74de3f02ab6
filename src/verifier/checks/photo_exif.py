"""The capture time an uploaded photo carries (EXIF DateTimeOriginal, with OffsetTimeOriginal when present).

The file is untrusted: Pillow opens it only as the photo types the upload accepts (JPEG, PNG, WebP), reads its
header (no pixel is decoded: the EXIF block is taken from what the header holds, never through `getexif`, which
would decode a PNG), and keeps its decompression-bomb limit (`Image.MAX_IMAGE_PIXELS`; a file declaring more
pixels is not read, and carries no time). Pillow's warnings on a corrupt EXIF block are left to the log (changing
the warning filters here would not be thread-safe). Anything missing, malformed or refused gives None: a photo
without a readable capture time is still uploaded, and the supervisor is told (`domain.photo_times`).
"""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image

from ..domain.photo_times import parse_exif_time

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003  # 36867
_OFFSET_TIME_ORIGINAL = 0x9011  # 36881
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
MAX_EXIF_BYTES = 256 * 1024  # an APP1 segment holds 64 KiB; a WebP or PNG chunk could declare more


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value if isinstance(value, str) else None


def capture_time(data: bytes, content_type: str) -> datetime | None:
    """The photo's capture time as the camera wrote it (aware when it wrote an offset), or None."""
    fmt = _FORMATS.get(content_type)
    if fmt is None:
        return None
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:  # raises DecompressionBombError past twice the limit
            width, height = im.size
            raw = im.info.get("exif")
        if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:  # past the limit (Pillow only warns up to twice it): not read
            return None
        if not isinstance(raw, bytes) or not raw or len(raw) > MAX_EXIF_BYTES:
            return None
        exif = Image.Exif()
        exif.load(raw)
        ifd = exif.get_ifd(_EXIF_IFD)
        return parse_exif_time(_text(ifd.get(_DATETIME_ORIGINAL)), _text(ifd.get(_OFFSET_TIME_ORIGINAL)))
    except Exception:  # untrusted bytes: whatever Pillow raises on them, the upload goes on without a time
        return None
