"""Procedural road scenes for the demo, the tests and the benchmarks.

No road-sign dataset can be downloaded here, so scenes are drawn in perspective from a simple
ground-plane model: a two-lane road whose geometry implies one of the context categories (a bend to
the left or right, a divided road with a gap in its median, a side road joining from the left) or
none (straight road), the category's warning sign before the feature on the left verge (as in the
left-hand traffic of the MTSVD dataset), common signs (stop, yield, speed limit, no entry), trees,
poles and vehicles, under varied light, fog, rain, blur and occlusion.

``write_detection_set`` writes a YOLO dataset (``data.yaml``, ``images/``, ``labels/``);
``write_missing_set`` writes the missing-sign classification set: scenes whose context sign is
absent, half of them drawn without it and half with it removed by inpainting (the C4MTS recipe).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from traffic_signs.signs import MISSING_CLASSES, SIGN_CLASSES, draw_sign

__all__ = ["Scene", "render_scene", "write_detection_set", "write_drive", "write_missing_set"]

COMMON_SIGNS = ("stop", "yield", "speed_limit", "no_entry")
Z_NEAR, Z_FAR = 2.5, 90.0


@dataclass
class Scene:
    """A rendered scene: RGB image, the context category, the signs' boxes and the context sign's
    mask (pixels it and its pole cover, for inpainting it away)."""

    image: np.ndarray
    category: str
    boxes: list[tuple[int, float, float, float, float]] = field(
        default_factory=list
    )  # cls,x0,y0,x1,y1
    context_mask: np.ndarray | None = None


class _Camera:
    def __init__(self, width: int, height: int, rng: np.random.Generator):
        self.w, self.h = width, height
        self.f = width * rng.uniform(0.75, 0.95)
        self.cam_h = rng.uniform(1.3, 1.8)
        self.horizon = height * rng.uniform(0.38, 0.46)
        self.cam_x = rng.uniform(-0.8, 0.2)  # driving in the left lane

    def project(self, x: np.ndarray, z: np.ndarray, y: float | np.ndarray = 0.0):
        """World (x right, y up, z ahead) to pixels."""
        u = self.w / 2 + self.f * (x - self.cam_x) / z
        v = self.horizon + self.f * (self.cam_h - y) / z
        return u, v


def _road_centre(category: str, rng: np.random.Generator) -> tuple:
    """Lateral offset of the road's centre line as a function of depth, and the feature's depth."""
    feature = rng.uniform(12, 18) if category == "side_road_left" else rng.uniform(15, 26)
    if category in ("left_curve", "right_curve"):
        k = rng.uniform(0.02, 0.05) * (-1 if category == "left_curve" else 1)
        return (lambda z: k * np.clip(z - feature, 0, None) ** 2), feature
    drift = rng.uniform(-0.0008, 0.0008)  # straight roads are not perfectly straight
    return (lambda z: drift * z**2), feature


def _fill(img, cam, xs_left, xs_right, zs, color):
    ul, vl = cam.project(xs_left, zs)
    ur, vr = cam.project(xs_right, zs)
    pts = np.concatenate([np.stack([ul, vl], 1), np.stack([ur, vr], 1)[::-1]])
    cv2.fillPoly(img, [np.round(pts * 4).astype(np.int32)], color, cv2.LINE_AA, shift=2)


def render_scene(
    category: str,
    rng: np.random.Generator,
    size: tuple[int, int] = (320, 240),
    context_sign: bool = True,
    common_signs: int | None = None,
) -> Scene:
    """Draw one scene of ``category`` (one of ``MISSING_CLASSES``) at ``size`` = (width, height);
    ``context_sign`` puts the category's sign before the feature."""
    if category not in MISSING_CLASSES:
        raise ValueError(f"category must be one of {MISSING_CLASSES}, got {category!r}")
    w, h = size
    cam = _Camera(w, h, rng)
    img = np.zeros((h, w, 3), np.float32)
    # sky and ground, lit by a random light
    light = rng.uniform(0.55, 1.15)
    sky_top, sky_low = np.array([70, 120, 200]), np.array([190, 210, 230])
    if rng.random() < 0.3:  # overcast
        sky_top, sky_low = np.array([150, 155, 160]), np.array([200, 200, 205])
    hz = int(cam.horizon)
    t = np.linspace(0, 1, max(hz, 1))[:, None]
    img[:hz] = (sky_top * (1 - t) + sky_low * t)[:, None, :]
    ground = np.array([95, 120, 60]) * rng.uniform(0.8, 1.2, 3)
    img[hz:] = ground
    img[hz:] += rng.normal(0, 6, (h - hz, w, 1))

    centre, feature = _road_centre(category, rng)
    zs = np.geomspace(Z_NEAR, Z_FAR, 120)
    half = rng.uniform(3.2, 4.0)  # road half-width (m)
    asphalt = np.array([85, 85, 90]) * rng.uniform(0.8, 1.2)
    if category == "side_road_left":  # a side road leaving to the left at the feature's depth
        width = rng.uniform(5, 7)
        zz = np.array([feature, feature + width, feature + width, feature])
        xx = np.array([0, 0, -45, -45]) + centre(zz)
        xx[:2] -= half - 0.5
        u, v = cam.project(xx, zz)
        cv2.fillPoly(img, [np.stack([u, v], 1).round().astype(np.int32)], asphalt.tolist())
    _fill(img, cam, centre(zs) - half, centre(zs) + half, zs, asphalt.tolist())
    # edge lines, dashed centre line (or the median of a divided road)
    for side in (-1, 1):
        x = centre(zs) + side * (half - 0.25)
        _fill(img, cam, x - 0.08, x + 0.08, zs, (230, 230, 225))
    if category == "gap_in_median":
        gap = (feature, feature + rng.uniform(7, 10))
        for lo, hi in ((Z_NEAR, gap[0]), (gap[1], Z_FAR)):
            seg = np.geomspace(lo, hi, 40)
            _fill(img, cam, centre(seg) - 0.6, centre(seg) + 0.6, seg, (150, 150, 130))
            _fill(img, cam, centre(seg) - 0.45, centre(seg) + 0.45, seg, (90, 130, 60))
    else:
        period = rng.uniform(8, 12)
        for z0 in np.arange(Z_NEAR + rng.uniform(0, period), Z_FAR, period):
            seg = np.linspace(z0, z0 + period * 0.4, 6)
            _fill(img, cam, centre(seg) - 0.08, centre(seg) + 0.08, seg, (235, 235, 230))

    # roadside objects, far to near so that near ones cover far ones
    objects = []
    for _ in range(rng.integers(4, 10)):
        side = rng.choice([-1, 1])
        z = rng.uniform(6, 70)
        objects.append(("tree", z, centre(z) + side * (half + rng.uniform(2, 8))))
    boxes, context_mask = [], None
    signs = []
    if category != "none" and context_sign:
        z = max(11.0, feature - rng.uniform(4, 9))  # nearer, it would leave the picture
        signs.append((category, z, centre(z) - half - rng.uniform(0.8, 1.8)))
    n_common = rng.integers(0, 3) if common_signs is None else common_signs
    for _ in range(n_common):
        side = rng.choice([-1, 1])
        z = rng.uniform(6, 30)
        signs.append((rng.choice(COMMON_SIGNS), z, centre(z) + side * (half + rng.uniform(1, 2))))
    if rng.random() < 0.5:
        z = rng.uniform(8, 40)
        objects.append(("vehicle", z, centre(z) + rng.uniform(0.5, 2.5)))
    items = [("sign", *s) for s in signs] + [(o[0], None, o[1], o[2]) for o in objects]
    items.sort(key=lambda item: -item[2])
    for kind, name, z, x in items:
        if kind == "tree":
            u, v = cam.project(np.array(x), np.array(z))
            r = cam.f * rng.uniform(1.5, 3) / z
            trunk = cam.f * 2.0 / z
            cv2.line(
                img, (int(u), int(v)), (int(u), int(v - trunk)), (70, 50, 35), max(1, int(r / 5))
            )
            green = (np.array([40, 90, 40]) * rng.uniform(0.7, 1.3)).tolist()
            cv2.circle(
                img, (int(u), int(v - trunk - r * 0.6)), max(1, int(r)), green, -1, cv2.LINE_AA
            )
        elif kind == "vehicle":
            u, v = cam.project(np.array(x), np.array(z))
            vw, vh = cam.f * 1.8 / z, cam.f * 1.5 / z
            color = rng.uniform(30, 220, 3).tolist()
            cv2.rectangle(img, (int(u - vw / 2), int(v - vh)), (int(u + vw / 2), int(v)), color, -1)
        else:
            box, mask = _draw_sign(img, cam, name, z, x, rng)
            if box is not None:
                boxes.append((SIGN_CLASSES.index(name), *box))
                if name == category:
                    context_mask = mask

    # occlusion of a sign by a passing object, now and then
    if boxes and rng.random() < 0.15:
        _, x0, y0, x1, y1 = boxes[rng.integers(len(boxes))]
        bw = (x1 - x0) * rng.uniform(0.2, 0.4)
        left = rng.random() < 0.5
        xa = x0 - 2 if left else x1 - bw
        cv2.rectangle(
            img, (int(xa), int(y0 - 4)), (int(xa + bw + 2), int(y1 + 30)), (60, 60, 65), -1
        )

    img = _weather(img, cam, rng, light)
    return Scene(np.clip(img, 0, 255).astype(np.uint8), category, boxes, context_mask)


def _draw_sign(img, cam, name, z, x, rng):
    """Composite a sign on a pole; returns its pixel box (clipped, or None when out of view or too
    small) and the mask of sign plus pole."""
    height = rng.uniform(1.8, 2.4)  # bottom edge of the sign above the ground (m)
    side_m = rng.uniform(0.75, 0.95)
    u, v_ground = cam.project(np.array(x), np.array(z))
    _, v_bottom = cam.project(np.array(x), np.array(z), height)
    s = int(round(cam.f * side_m / z))
    if s < 8:
        return None, None
    patch = draw_sign(name, s, rng).astype(np.float32)
    x0, y0 = int(round(u - s / 2)), int(round(v_bottom - s))
    mask = np.zeros(img.shape[:2], np.uint8)
    cv2.line(mask, (int(u), int(v_ground)), (int(u), int(v_bottom)), 255, max(1, s // 10))
    cv2.line(
        img, (int(u), int(v_ground)), (int(u), int(v_bottom)), (120, 120, 120), max(1, s // 10)
    )
    h, w = img.shape[:2]
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + s, w), min(y0 + s, h)
    if xb - xa < s * 0.6 or yb - ya < s * 0.6:
        return None, None
    p = patch[ya - y0 : yb - y0, xa - x0 : xb - x0]
    alpha = p[..., 3:] / 255
    shade = rng.uniform(0.75, 1.05)
    img[ya:yb, xa:xb] = img[ya:yb, xa:xb] * (1 - alpha) + p[..., :3] * shade * alpha
    mask[ya:yb, xa:xb] = np.maximum(mask[ya:yb, xa:xb], (alpha[..., 0] > 0.1) * 255)
    return (float(xa), float(ya), float(xb), float(yb)), cv2.dilate(mask, np.ones((3, 3)))


def _weather(img, cam, rng, light):
    h, w = img.shape[:2]
    img = img * light * rng.uniform(0.9, 1.1, 3)
    if rng.random() < 0.25:  # fog: farther (closer to the horizon) is greyer
        depth = np.clip(1 - np.abs(np.arange(h) - cam.horizon) / (h * 0.6), 0, 1)[:, None, None]
        strength = rng.uniform(0.3, 0.7)
        img = img * (1 - strength * depth) + 200 * strength * depth
    if rng.random() < 0.2:  # rain streaks
        for _ in range(rng.integers(80, 200)):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            cv2.line(img, (int(x), int(y)), (int(x - 2), int(y + 8)), (200, 200, 210), 1)
    img = img + rng.normal(0, rng.uniform(2, 6), img.shape)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.0))
    return img


def _save(path: Path, image: np.ndarray) -> None:
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def write_detection_set(
    out_dir: str | os.PathLike,
    train: int = 600,
    val: int = 150,
    seed: int = 0,
    size: tuple[int, int] = (320, 240),
) -> Path:
    """A YOLO detection dataset of ``train`` + ``val`` scenes (every category, signs present);
    returns the path of its ``data.yaml``."""
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    for split, n in (("train", train), ("val", val)):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            scene = render_scene(MISSING_CLASSES[i % len(MISSING_CLASSES)], rng, size)
            name = f"{split}_{i:05d}"
            _save(out / "images" / split / f"{name}.png", scene.image)
            lines = [
                f"{c} {(x0 + x1) / 2 / size[0]:.6f} {(y0 + y1) / 2 / size[1]:.6f} "
                f"{(x1 - x0) / size[0]:.6f} {(y1 - y0) / size[1]:.6f}"
                for c, x0, y0, x1, y1 in scene.boxes
            ]
            (out / "labels" / split / f"{name}.txt").write_text("".join(f"{s}\n" for s in lines))
    names = "".join(f"  {i}: {n}\n" for i, n in enumerate(SIGN_CLASSES))
    yaml = out / "data.yaml"
    yaml.write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}")
    return yaml


def write_missing_set(
    out_dir: str | os.PathLike,
    per_class: dict[str, int] | None = None,
    seed: int = 0,
    size: tuple[int, int] = (320, 240),
    splits: tuple[str, ...] = ("train", "val", "test"),
    per_split: tuple[int, ...] = (120, 30, 40),
) -> dict[str, int]:
    """``out_dir/<split>/<class>/<how>_NNNNN.png``: scenes whose context sign is missing, for each
    of ``MISSING_CLASSES``; ``how`` is ``inpainted`` (drawn with the sign, then the sign and its
    pole removed with OpenCV's Telea inpainting) or ``absent`` (drawn without it), alternately.
    ``none`` scenes are straight roads. Returns the number of images per split."""
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    written = {}
    for split, n in zip(splits, per_split):
        for category in MISSING_CLASSES:
            folder = out / split / category
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                inpaint = category != "none" and i % 2 == 0
                scene = render_scene(category, rng, size, context_sign=inpaint)
                image, how = scene.image, "absent"
                if inpaint and scene.context_mask is not None:
                    image = cv2.inpaint(image, scene.context_mask, 5, cv2.INPAINT_TELEA)
                    how = "inpainted"
                _save(folder / f"{how}_{i:05d}.png", image)
        written[split] = n * len(MISSING_CLASSES)
    return written


def write_drive(
    path: str | os.PathLike,
    seconds: int = 10,
    fps: float = 10.0,
    seed: int = 0,
    size: tuple[int, int] = (320, 240),
) -> list[dict]:
    """A video of one scene per second (frames within a second differ by sensor noise), cycling
    through the categories, with the context sign present in every other scene; returns what each
    second shows (``category``, ``sign_present``), the truth for checking an audit."""
    from app_toolkit.media import VideoInfo, write_video

    if seconds < 1 or fps <= 0:
        raise ValueError(f"need seconds >= 1 and fps > 0, got {seconds} and {fps}")
    rng = np.random.default_rng(seed)
    truth, frames = [], []
    per_second = max(1, int(round(fps)))
    for i in range(seconds):
        category = MISSING_CLASSES[i % len(MISSING_CLASSES)]
        present = category != "none" and (i // len(MISSING_CLASSES)) % 2 == 0
        scene = render_scene(category, rng, size, context_sign=present)
        truth.append({"second": i, "category": category, "sign_present": present})
        for _ in range(per_second):
            noisy = scene.image.astype(np.int16) + rng.integers(-3, 4, scene.image.shape)
            frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
    write_video(path, iter(frames), VideoInfo(float(per_second), size[0], size[1], len(frames)))
    return truth
