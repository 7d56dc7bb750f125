"""Detectors shared by reference models, defenses and attacks: the versioned harmful-request
lexicon and OCR. They are instruments, not judges: judges decide verdicts, these find text."""
