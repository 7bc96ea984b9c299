"""Text-to-speech providers: one vendor per module, chosen by ``speech.tts``."""
