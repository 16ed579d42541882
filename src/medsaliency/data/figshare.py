"""Figshare brain-tumour dataset (Cheng 2017): MATLAB v7.3 files holding a ``cjdata`` struct.

A v7.3 MAT-file is an HDF5 file with a 512-byte user block that starts with a text header.
The struct is an HDF5 group whose fields are datasets:

=============  ==================  ==================================================
field          MATLAB type         meaning
=============  ==================  ==================================================
``label``      double, 1x1         1 meningioma, 2 glioma, 3 pituitary
``PID``        char, 1xk           patient id; HDF5 holds uint16 character codes
``image``      int16, HxW          the slice (512x512 in the published set)
``tumorBorder`` double, 1x2n       x1, y1, x2, y2, ... outline of the tumour
``tumorMask``  logical, HxW        1 inside the tumour
=============  ==================  ==================================================

MATLAB writes arrays column-major, so h5py sees every 2-D array transposed: an ``HxW``
MATLAB array is an HDF5 dataset of shape ``(W, H)``. :func:`read_cjdata` transposes back,
and :func:`write_cjdata` transposes on the way out, so images and masks keep the
orientation a MATLAB user sees (the mask lies over the tumour, not over its mirror).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

from medsaliency.data.records import ImageRecord, checked_image, checked_mask
from medsaliency.errors import DataError

NON_IMAGE_FILES = frozenset({"cvind.mat"})  # the published cross-validation index file
_FIELDS = ("label", "PID", "image", "tumorBorder", "tumorMask")
_USERBLOCK_BYTES = 512
_HEADER_TEXT = "MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 1970 HDF5 schema 1.00 ."


def read_cjdata(path: Path, class_names: list[str], root: Path | None = None) -> ImageRecord:
    """Read one ``cjdata`` file into an :class:`ImageRecord` labelled by ``class_names``.

    ``class_names[i]`` names label code ``i + 1``; any other code is a :class:`DataError`.
    ``root`` is the dataset folder that the record's ``path`` is made relative to.
    """
    try:
        with h5py.File(path, "r") as mat:
            if "cjdata" not in mat:
                raise DataError(f"{path}: no 'cjdata' struct; found {sorted(mat.keys())}")
            fields = mat["cjdata"]
            missing = {"label", "PID", "image", "tumorMask"} - set(fields.keys())
            if missing:
                raise DataError(f"{path}: cjdata lacks field(s) {sorted(missing)}")
            label_code = _read_label_code(fields["label"], path)
            patient_id = _read_matlab_string(fields["PID"], path)
            image = np.asarray(fields["image"][()]).T
            mask = np.asarray(fields["tumorMask"][()]).T
    except OSError as exc:
        raise DataError(f"{path}: not a readable MATLAB v7.3 (HDF5) file ({exc})") from None
    if not 1 <= label_code <= len(class_names):
        raise DataError(f"{path}: label {label_code} is not one of the codes 1..{len(class_names)} ({', '.join(class_names)})")
    image = checked_image(image, path)
    mask = checked_mask(mask, path, expected_shape=image.shape)
    relative = path.relative_to(root) if root is not None else Path(path.name)
    return ImageRecord(id=path.stem, patient_id=patient_id, label=class_names[label_code - 1], image=image, mask=mask, path=relative)


def iter_figshare(raw_dir: Path, class_names: list[str]) -> Iterator[ImageRecord]:
    """Every ``*.mat`` image file under ``raw_dir`` (searched recursively, in sorted order)."""
    for path in find_mat_files(raw_dir):
        yield read_cjdata(path, class_names, root=raw_dir)


def find_mat_files(raw_dir: Path) -> list[Path]:
    """Image ``.mat`` files under ``raw_dir``; ids (file stems) must be unique."""
    paths = sorted(p for p in raw_dir.rglob("*.mat") if p.name not in NON_IMAGE_FILES)
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem in seen:
            raise DataError(f"duplicate image id {path.stem!r}: {seen[path.stem]} and {path}")
        seen[path.stem] = path
    return paths


def write_cjdata(path: Path, label_code: int, patient_id: str, image: np.ndarray, mask: np.ndarray, border: np.ndarray) -> None:
    """Write one slice as MATLAB v7.3 exactly as the published files lay it out.

    ``image``: int16 ``[H, W]``; ``mask``: bool ``[H, W]``; ``border``: float ``[2n]``
    (x1, y1, x2, y2, ... in 1-based MATLAB pixel coordinates). The bytes depend only on
    the arguments (no timestamps), so phantom generation is byte-deterministic.
    """
    with h5py.File(path, "w", userblock_size=_USERBLOCK_BYTES, track_order=False) as mat:
        group = mat.create_group("cjdata")
        _set_class(group, "struct")
        field_names = [np.frombuffer(name.encode("ascii"), dtype="S1") for name in _FIELDS]
        group.attrs.create("MATLAB_fields", np.array(field_names, dtype=object), dtype=h5py.vlen_dtype(np.dtype("S1")))
        _write_matrix(group, "label", np.array([[float(label_code)]]), "double")
        codes = np.array([[ord(ch) for ch in patient_id]], dtype=np.uint16)
        _write_matrix(group, "PID", codes, "char").attrs["MATLAB_int_decode"] = np.int32(2)
        _write_matrix(group, "image", np.asarray(image, dtype=np.int16), "int16")
        _write_matrix(group, "tumorBorder", np.asarray(border, dtype=np.float64)[None, :], "double")
        _write_matrix(group, "tumorMask", np.asarray(mask, dtype=np.uint8), "logical")
    _write_header(path)


def _write_matrix(group: h5py.Group, name: str, matrix: np.ndarray, matlab_class: str) -> h5py.Dataset:
    """Store a MATLAB ``rows x cols`` matrix column-major, i.e. as the HDF5 array ``matrix.T``."""
    data = np.ascontiguousarray(matrix.T)
    compression = {"compression": "gzip", "compression_opts": 4} if data.size > 1024 else {}
    dataset = group.create_dataset(name, data=data, track_times=False, **compression)
    _set_class(dataset, matlab_class)
    return dataset


def _set_class(node: h5py.HLObject, matlab_class: str) -> None:
    node.attrs.create("MATLAB_class", np.bytes_(matlab_class))


def _write_header(path: Path) -> None:
    header = _HEADER_TEXT.ljust(116).encode("ascii") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as handle:
        handle.write(header)


def _read_label_code(dataset: h5py.Dataset, path: Path) -> int:
    values = np.asarray(dataset[()], dtype=np.float64).ravel()
    if values.size != 1 or not np.isfinite(values[0]) or values[0] != int(values[0]):
        raise DataError(f"{path}: cjdata.label must be one integer code, got {values.tolist()}")
    return int(values[0])


def _read_matlab_string(dataset: h5py.Dataset, path: Path) -> str:
    codes = np.asarray(dataset[()]).ravel()
    if codes.size == 0 or not np.issubdtype(codes.dtype, np.integer):
        raise DataError(f"{path}: cjdata.PID must be a non-empty MATLAB char array, got {codes.dtype} {codes.shape}")
    return "".join(chr(int(code)) for code in codes)
