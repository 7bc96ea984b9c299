"""Voice activity detectors: one vendor per module, chosen by ``speech.vad``."""
