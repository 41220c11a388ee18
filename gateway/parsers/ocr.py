"""The OCR models on onnxruntime: text detection, direction and recognition, no OCR package.

The models are the rapidocr package's own (PP-OCR detector and recognizer, with the
recognizer's character list inside its model file, and its text-line direction classifier);
the package is installed for them and never imported: importing it cost 1.2-1.4 s of CPU
per process (it reads its 1,600-line model list into OmegaConf twice), more than the model
sessions. What it did around the models is small and is done here the same way: the
detector's input normalisation and its differentiable-binarization post-processing
(threshold, dilate, contours, box score, unclip by 1.6), the recognizer's resize-and-pad to
48 rows and its CTC decoding, the classifier's to 48 x 192.

One `Models` is made per process (`models()`), on first use, and reused.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
# PP-OCR's text-line classifier: is a line upright or upside down (0.6 MB, ~1 ms a crop)
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
CLS_WIDTH = 192  # it takes crops 48 rows high, padded (or squeezed) to this width
DET_THRESH = 0.3  # probability a pixel is text
DET_BOX_THRESH = 0.3  # mean probability of a kept box (the package's 0.5 lost narrow glyphs)
DET_UNCLIP = 1.6
DET_MAX_BOXES = 1000
DET_MIN_SIDE = 3
DET_LINE_ROWS = 10  # boxes whose tops are this close are one line when sorting
REC_HEIGHT = 48
# one intra-op thread: on a shared machine (or several workers) a second thread bought
# little wall-clock time here and cost CPU and ~35 MB
THREADS = 1
_MODELS: Models | None = None


def model_dir() -> Path:
    """Where the installed OCR package keeps its model files (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        msg = "the OCR models (the rapidocr package) are not installed"
        raise RuntimeError(msg)
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _session(path: Path, *, full: bool) -> Any:
    """An onnxruntime session: one thread, no memory arena, the given optimisation level.

    Without the arena a call's tensors go back to the heap when it ends, so the page's peak
    is the largest single call's, not the sum. The detector runs with basic optimisations
    only: the full level fuses its layers into buffers that stay alive together (a band of
    the page took ~250 MB with it, ~180 MB without, at the same speed); the recognizer keeps
    the full level, ~25 % faster with it.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if full
        else ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    )
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    # plain: an explicit sequential execution mode with the package's arena-extend option
    # took the detector's band from ~105 MB to ~170 MB of working memory
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class Models:
    """The detector, recognizer and direction classifier sessions, the recognizer's characters."""

    def __init__(self, root: Path | None = None) -> None:
        root = root or model_dir()
        self._det = _session(root / DET_MODEL, full=False)
        self._rec = _session(root / REC_MODEL, full=True)
        self._cls = _session(root / CLS_MODEL, full=True)
        meta = self._rec.get_modelmeta().custom_metadata_map
        # index 0 is CTC's blank; the model's last class is a space
        self._chars = ["", *meta["character"].splitlines(), " "]
        self._det_in = self._det.get_inputs()[0].name
        self._rec_in = self._rec.get_inputs()[0].name
        self._cls_in = self._cls.get_inputs()[0].name

    def detect(self, image: Any) -> list[Any]:
        """Text boxes (4 corners, float32, clockwise from top left) in `image`'s pixels.

        `image` is three-channel uint8, both sides ideally multiples of 32 (else it is
        resized to the nearest, and the boxes scaled back).
        """
        import cv2
        import numpy as np

        height, width = image.shape[:2]
        rows, cols = max(32, round(height / 32) * 32), max(32, round(width / 32) * 32)
        scaled = image if (rows, cols) == (height, width) else cv2.resize(image, (cols, rows))
        blob = (scaled.astype(np.float32) * (2.0 / 255.0) - 1.0).transpose(2, 0, 1)[None]
        pred = self._det.run(None, {self._det_in: np.ascontiguousarray(blob)})[0][0, 0]
        del blob
        mask = cv2.dilate((pred > DET_THRESH).astype(np.uint8), np.ones((2, 2), np.uint8))
        contours, _ = cv2.findContours(mask * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        boxes: list[Any] = []
        for contour in contours[:DET_MAX_BOXES]:
            points, side = _mini_box(contour)
            if side < DET_MIN_SIDE or _box_score(pred, points) < DET_BOX_THRESH:
                continue
            box, side = _mini_box(_unclip(points))
            if side < DET_MIN_SIDE + 2:
                continue
            box[:, 0] = np.clip(np.round(box[:, 0] / cols * width), 0, width)
            box[:, 1] = np.clip(np.round(box[:, 1] / rows * height), 0, height)
            box = _clockwise(box.astype(np.int32).astype(np.float32))
            box[:, 0] = np.clip(box[:, 0], 0, width - 1).astype(np.int32)
            box[:, 1] = np.clip(box[:, 1], 0, height - 1).astype(np.int32)
            if min(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[0] - box[3])) < 4:
                continue
            boxes.append(box)
        return reading_order(boxes)

    def recognise(self, crops: list[Any], min_width: float) -> list[tuple[str, float]]:
        """(text, mean confidence) of each crop, in one recognizer call.

        Every crop is scaled to 48 rows and padded to the widest of them, at least
        `min_width`: the caller groups crops of similar width.
        """
        import numpy as np

        if not crops:
            return []
        ratio = max(min_width / REC_HEIGHT, *(c.shape[1] / max(c.shape[0], 1) for c in crops))
        batch = _batch(crops, int(REC_HEIGHT * ratio))
        preds = self._rec.run(None, {self._rec_in: batch})[0]
        del batch
        best, prob = preds.argmax(axis=2), preds.max(axis=2)
        out: list[tuple[str, float]] = []
        for tokens, probs in zip(best, prob, strict=True):
            keep = tokens != 0
            keep[1:] &= tokens[1:] != tokens[:-1]
            text = "".join(self._chars[t] for t in tokens[keep])
            confs = [round(float(p), 5) for p in probs[keep]] or [0.0]
            out.append((text, round(float(np.mean(confs)), 5)))
        return out

    def upside_down(self, crops: list[Any]) -> list[float]:
        """The probability that each crop's text is upside down, in one classifier call.

        Every crop is scaled to 48 rows and padded to `CLS_WIDTH` (a longer one is squeezed
        to it, as PP-OCR does: the caller gives crops at most about four times as long as
        they are high).
        """
        if not crops:
            return []
        probs = self._cls.run(None, {self._cls_in: _batch(crops, CLS_WIDTH)})[0]
        return [float(p) for p in probs[:, 1]]  # its classes: upright, upside down


def _batch(crops: list[Any], width: int) -> Any:
    """The crops as one model input: each scaled to 48 rows, at most `width` columns (a
    longer one is squeezed), scaled to -1..1 and padded with zeros to `width`."""
    import cv2
    import numpy as np

    batch = np.zeros((len(crops), 3, REC_HEIGHT, width), np.float32)
    for i, crop in enumerate(crops):
        own = min(width, math.ceil(REC_HEIGHT * crop.shape[1] / max(crop.shape[0], 1)))
        resized = cv2.resize(crop, (own, REC_HEIGHT)).astype(np.float32)
        batch[i, :, :, :own] = resized.transpose(2, 0, 1) * (2.0 / 255.0) - 1.0
    return batch


def models() -> Models:
    """The process's OCR models, loaded on first use (~0.2 s for the three sessions)."""
    global _MODELS
    if _MODELS is None:
        _MODELS = Models()
    return _MODELS


def _mini_box(contour: Any) -> tuple[Any, float]:
    """The contour's minimum-area rectangle (corners from top left) and its shorter side."""
    import cv2
    import numpy as np

    rect = cv2.minAreaRect(contour)
    points = sorted(cv2.boxPoints(rect).tolist(), key=lambda p: p[0])
    left = (points[0], points[1]) if points[1][1] > points[0][1] else (points[1], points[0])
    right = (points[2], points[3]) if points[3][1] > points[2][1] else (points[3], points[2])
    box = np.array([left[0], right[0], right[1], left[1]], np.float32)
    return box, float(min(rect[1]))


def _box_score(pred: Any, box: Any) -> float:
    """Mean text probability inside the box."""
    import cv2
    import numpy as np

    h, w = pred.shape
    x0 = int(np.clip(np.floor(box[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(box[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(box[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(box[:, 1].max()), 0, h - 1))
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    shifted = box - np.array([x0, y0], np.float32)
    cv2.fillPoly(mask, shifted.reshape(1, -1, 2).astype(np.int32), 1)
    return float(cv2.mean(pred[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def _unclip(box: Any) -> Any:
    """The box grown by area x 1.6 / perimeter on every side, as the detector was trained."""
    import cv2
    import numpy as np
    import pyclipper

    distance = cv2.contourArea(box) * DET_UNCLIP / cv2.arcLength(box, True)
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(box.tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    points = [point for polygon in offset.Execute(distance) for point in polygon]
    return np.array(points or box.tolist(), np.float32).astype(np.int32).reshape(-1, 1, 2)


def _clockwise(box: Any) -> Any:
    """Corners as top left, top right, bottom right, bottom left."""
    import numpy as np

    by_x = box[np.argsort(box[:, 0]), :]
    left = by_x[:2][np.argsort(by_x[:2, 1])]
    right = by_x[2:][np.argsort(by_x[2:, 1])]
    return np.array([left[0], right[0], right[1], left[1]], np.float32)


def reading_order(boxes: list[Any]) -> list[Any]:
    """Top to bottom by first corner; boxes whose tops are within a few rows, left to right."""
    import numpy as np

    if not boxes:
        return []
    stack = np.array(boxes)
    tops = stack[:, 0, 1]
    by_top = np.argsort(tops, kind="stable")
    line = np.concatenate([[0], np.cumsum(np.diff(tops[by_top]) >= DET_LINE_ROWS)])
    order = by_top[np.lexsort((stack[by_top, 0, 0], line))]
    return [stack[i] for i in order]
