"""Call recordings: control, index, playback and retention."""
