"""Files: atomic writes, npz/JSON/YAML reading, the output paths and the records the stages hand each other."""
