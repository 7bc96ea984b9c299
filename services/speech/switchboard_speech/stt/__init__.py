"""Speech-to-text providers: one vendor per module, chosen by ``speech.stt``."""
