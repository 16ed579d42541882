"""Synthetic phantoms written in the real file formats: the embedded default dataset."""
