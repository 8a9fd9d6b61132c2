"""Helpers shared by the traffic_signs tests."""

import numpy as np

from core_flows.media import VideoInfo, write_video
from traffic_signs.synth import render_scene


def write_scene_video(path, categories, frames_each=3, seed=0):
    """A short video: ``frames_each`` frames of a scene of each category, 5 frames per second."""
    rng = np.random.default_rng(seed)
    frames = []
    for c in categories:
        frames += [render_scene(c, rng, context_sign=False).image] * frames_each
    h, w = frames[0].shape[:2]
    write_video(path, iter(frames), VideoInfo(fps=5.0, width=w, height=h, frames=len(frames)))
    return len(frames)
