"""The emblem at the top of a letter: the agency's own image, or edoc's neutral placeholder seal.

The Garuda (ตราครุฑ) is restricted to government agencies, so edoc never ships it: an agency
puts its emblem image (PNG or JPEG) in the home (see ``docs/en/documents.md``) and edoc
embeds it; otherwise a neutral seal of rings and an eight-point star is drawn as vectors.
"""

from __future__ import annotations

import hashlib
import io
import math
import zlib

from edoc.documents.pdf import Canvas, Document, Name, Stream
from edoc.errors import InvalidField

PT_PER_MM = 72 / 25.4


def draw_placeholder(canvas: Canvas, cx: float, cy: float, height: float) -> None:
    """A neutral seal ``height`` points tall centred at (cx, cy): two rings, a ring of dots,
    and an eight-point star. Not the Garuda."""
    r = height / 2
    canvas.raw("q")
    canvas.color((0.15, 0.15, 0.15))
    canvas.circle(cx, cy, r * 0.98, width=max(0.8, r * 0.05))
    canvas.circle(cx, cy, r * 0.80, width=max(0.4, r * 0.02))
    dots = 24
    for i in range(dots):
        a = 2 * math.pi * i / dots
        canvas.circle(cx + math.cos(a) * r * 0.89, cy + math.sin(a) * r * 0.89, r * 0.028, fill=True)
    star = []
    for i in range(16):
        a = math.pi / 2 + math.pi * i / 8
        rr = r * (0.62 if i % 2 == 0 else 0.26)
        star.append((cx + math.cos(a) * rr, cy + math.sin(a) * rr))
    canvas.polygon(star, fill=True)
    canvas.raw("1 1 1 rg")
    canvas.circle(cx, cy, r * 0.12, fill=True)
    canvas.raw("Q")


def draw_image(doc: Document, canvas: Canvas, data: bytes, cx: float, top: float, height: float) -> float:
    """Embed the agency's emblem (PNG or JPEG) ``height`` points tall, centred on ``cx`` with its
    top at ``top`` (PDF y). Returns the drawn width."""
    key = hashlib.sha256(data).hexdigest()[:16]
    stream, smask, (w, h) = _image_stream(data)
    ref = doc.image(key, stream, smask)
    width = height * w / h
    canvas.image(f"Em{key[:6]}", ref, cx - width / 2, top - height, width, height)
    return width


def _image_stream(data: bytes) -> tuple[Stream, Stream | None, tuple[int, int]]:
    from PIL import Image, UnidentifiedImageError

    try:
        image: Image.Image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidField("emblem", f"the agency's emblem image cannot be read ({exc})") from None
    size = image.size
    if image.format == "JPEG" and image.mode in ("RGB", "L"):
        space = Name("DeviceRGB") if image.mode == "RGB" else Name("DeviceGray")
        extra = {"Type": Name("XObject"), "Subtype": Name("Image"), "Width": size[0], "Height": size[1]}
        extra.update({"ColorSpace": space, "BitsPerComponent": 8, "Filter": Name("DCTDecode")})
        return Stream(data, extra, compress=False), None, size
    smask = None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        alpha = rgba.getchannel("A").tobytes()
        if alpha != b"\xff" * len(alpha):
            smask = _raw_stream(alpha, size, "DeviceGray")
        image = rgba.convert("RGB")
    else:
        image = image.convert("RGB")
    return _raw_stream(image.tobytes(), size, "DeviceRGB"), smask, size


def _raw_stream(pixels: bytes, size: tuple[int, int], space: str) -> Stream:
    extra = {
        "Type": Name("XObject"),
        "Subtype": Name("Image"),
        "Width": size[0],
        "Height": size[1],
        "ColorSpace": Name(space),
        "BitsPerComponent": 8,
        "Filter": Name("FlateDecode"),
    }
    return Stream(zlib.compress(pixels, 6), extra, compress=False)
