"""What to tell the person holding the scanner when a photo did not give a clean answer.

`LabelRead.retake()` names the case; `retake_message(code, language)` says, in the tenant's
language ("en" or "zh"), how to take the next photo. A scanner answer shows the message next
to the codes; the unread regions and conflicts of the `LabelRead` say where on the photo.
"""

from __future__ import annotations

from gateway.barcodes.symbol import LabelRead

RETAKE_MESSAGES: dict[str, dict[str, str]] = {
    "no_barcode": {
        "en": (
            "No barcode found. Take the photo again straight at the label, with the label "
            "filling most of the picture, in even light and without glare."
        ),
        "zh": "未找到条码。请正对标签重新拍摄：标签占满大部分画面，光线均匀，避免反光。",
    },
    "unreadable": {
        "en": (
            "A barcode is there but could not be read. Hold the phone still, tap the barcode "
            "to focus, move closer and avoid glare, then take the photo again."
        ),
        "zh": "检测到条码但无法识别。请保持手机稳定，点按条码对焦，靠近一些并避免反光后重新拍摄。",
    },
    "partial": {
        "en": (
            "Some barcodes on the label could not be read (marked on the photo). Take a "
            "closer, sharper photo of them."
        ),
        "zh": "标签上有部分条码无法识别（已在照片上标出）。请靠近并对焦后重新拍摄这些条码。",
    },
    "conflict": {
        "en": (
            "One barcode was read two different ways (marked on the photo): it may be damaged "
            "or partly covered. Take a second photo of it before relying on either reading."
        ),
        "zh": (
            "同一条码被识别出两种不同内容（已在照片上标出），条码可能破损或被遮挡。"
            "请再拍一张该条码的照片后再使用结果。"
        ),
    },
}


def retake_message(code: str, language: str = "en") -> str:
    """The advice for the retake case `code` in `language` ("en" or "zh"; others get "en").

    Raises:
        KeyError: `code` is not one of `RETAKE_MESSAGES`.
    """
    messages = RETAKE_MESSAGES[code]
    return messages.get(language, messages["en"])


def retake_hint(result: LabelRead, language: str = "en") -> dict[str, str] | None:
    """`{"code", "message"}` for a photo that should be taken again, or None when it is fine."""
    code = result.retake()
    if code is None:
        return None
    return {"code": code, "message": retake_message(code, language)}
