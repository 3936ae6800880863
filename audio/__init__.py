"""Audio: capture, voice activity, speech-to-text, text-to-speech, playback."""
