"""Data layer: real file formats, synthetic phantoms, manifests, splits and expectations."""
