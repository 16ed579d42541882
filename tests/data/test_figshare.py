"""The Figshare ``.mat`` loader, on fixtures written by hdf5storage (an independent MATLAB v7.3 writer)."""

from pathlib import Path

import h5py
import hdf5storage
import numpy as np
import pytest

from medsaliency.data.figshare import find_mat_files, iter_figshare, read_cjdata, write_cjdata
from medsaliency.errors import DataError

CLASSES = ["meningioma", "glioma", "pituitary"]


def asymmetric_slice(height=40, width=30):
    """An image whose value encodes (row, col), and a mask in the top-right corner only."""
    rows, cols = np.mgrid[0:height, 0:width]
    image = (rows * 100 + cols).astype(np.int16)
    mask = (rows < 8) & (cols >= width - 6)
    return image, mask


def write_with_matlab_layout(path: Path, label=2.0, pid="MR0042", image=None, mask=None):
    """Write ``cjdata`` the way MATLAB's ``save -v7.3`` does, via hdf5storage."""
    if image is None:
        image, mask = asymmetric_slice()
    fields = {"label": np.array([[label]]), "PID": np.str_(pid), "image": image, "tumorMask": mask}
    hdf5storage.savemat(str(path), {"cjdata": fields}, format="7.3", matlab_compatible=True, store_python_metadata=False)


def test_matlab_file_is_read_in_matlab_orientation(tmp_path):
    image, mask = asymmetric_slice()
    path = tmp_path / "17.mat"
    write_with_matlab_layout(path, image=image, mask=mask)
    with h5py.File(path) as raw:  # h5py alone sees the column-major layout: transposed
        assert raw["cjdata/image"].shape == (30, 40)
    record = read_cjdata(path, CLASSES, root=tmp_path)
    assert record.image.shape == (40, 30) and record.image.dtype == np.float32
    np.testing.assert_array_equal(record.image, image.astype(np.float32))
    np.testing.assert_array_equal(record.mask, mask)
    assert record.mask[0, -1] and not record.mask[-1, 0] and not record.mask[0, 0]
    assert (record.id, record.patient_id, record.label, record.path) == ("17", "MR0042", "glioma", Path("17.mat"))


def test_our_writer_is_read_back_by_an_independent_reader(tmp_path):
    image, mask = asymmetric_slice()
    path = tmp_path / "3.mat"
    write_cjdata(path, 3, "100123", image, mask, border=np.array([30.0, 1.0, 25.0, 8.0]))
    loaded = hdf5storage.loadmat(str(path))["cjdata"][0]  # a 1x1 struct
    np.testing.assert_array_equal(loaded["image"], image)
    np.testing.assert_array_equal(loaded["tumorMask"], mask)
    assert str(loaded["PID"][0, 0]) == "100123"
    assert float(loaded["label"][0, 0]) == 3.0
    assert open(path, "rb").read(19) == b"MATLAB 7.3 MAT-file"
    record = read_cjdata(path, CLASSES)
    assert record.label == "pituitary" and record.patient_id == "100123"


def test_writer_is_byte_deterministic(tmp_path):
    image, mask = asymmetric_slice()
    for name in ("a.mat", "b.mat"):
        write_cjdata(tmp_path / name, 1, "7", image, mask, border=np.zeros(4))
    assert (tmp_path / "a.mat").read_bytes() == (tmp_path / "b.mat").read_bytes()


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "5.mat"
    write_with_matlab_layout(path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(DataError, match=r"5\.mat: not a readable MATLAB v7\.3"):
        read_cjdata(path, CLASSES)


def test_non_hdf5_file_names_the_file(tmp_path):
    path = tmp_path / "6.mat"
    path.write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 200)
    with pytest.raises(DataError, match=r"6\.mat: not a readable"):
        read_cjdata(path, CLASSES)


def test_label_outside_the_classes_is_rejected(tmp_path):
    path = tmp_path / "8.mat"
    write_with_matlab_layout(path, label=4.0)
    with pytest.raises(DataError, match=r"8\.mat: label 4 is not one of the codes 1\.\.3"):
        read_cjdata(path, CLASSES)


def test_nan_and_inf_pixels_are_rejected(tmp_path):
    image, mask = asymmetric_slice()
    image = image.astype(np.float64)
    image[3, 4] = np.nan
    image[5, 6] = np.inf
    path = tmp_path / "9.mat"
    write_with_matlab_layout(path, image=image, mask=mask)
    with pytest.raises(DataError, match=r"9\.mat: image has 2 non-finite pixel\(s\).*row 3, column 4"):
        read_cjdata(path, CLASSES)


def test_image_of_wrong_shape_is_rejected(tmp_path):
    path = tmp_path / "10.mat"
    write_with_matlab_layout(path, image=np.zeros((4, 5, 3), np.int16), mask=np.zeros((4, 5), bool))
    with pytest.raises(DataError, match=r"10\.mat: image must be 2-D"):
        read_cjdata(path, CLASSES)


def test_mask_of_other_shape_than_image_is_rejected(tmp_path):
    path = tmp_path / "11.mat"
    write_with_matlab_layout(path, image=np.zeros((40, 30), np.int16), mask=np.zeros((30, 40), bool))
    with pytest.raises(DataError, match=r"11\.mat: mask shape \(30, 40\) differs from image shape \(40, 30\)"):
        read_cjdata(path, CLASSES)


def test_missing_struct_is_named(tmp_path):
    path = tmp_path / "12.mat"
    hdf5storage.savemat(str(path), {"other": np.zeros((2, 2))}, format="7.3", matlab_compatible=True)
    with pytest.raises(DataError, match=r"12\.mat: no 'cjdata' struct"):
        read_cjdata(path, CLASSES)


def test_duplicate_ids_in_nested_folders_name_both_files(tmp_path):
    for part in ("part1", "part2"):
        (tmp_path / part).mkdir()
        write_with_matlab_layout(tmp_path / part / "1.mat")
    with pytest.raises(DataError, match=r"duplicate image id '1': .*part1/1\.mat and .*part2/1\.mat"):
        find_mat_files(tmp_path)


def test_folder_is_read_recursively_and_index_file_skipped(tmp_path):
    (tmp_path / "part1").mkdir()
    write_with_matlab_layout(tmp_path / "part1" / "2.mat", label=1.0)
    write_with_matlab_layout(tmp_path / "1.mat", label=3.0)
    hdf5storage.savemat(str(tmp_path / "cvind.mat"), {"cvind": np.ones((3, 1))}, format="7.3", matlab_compatible=True)
    records = list(iter_figshare(tmp_path, CLASSES))
    assert [(r.id, r.label, r.path.as_posix()) for r in records] == [("1", "pituitary", "1.mat"), ("2", "meningioma", "part1/2.mat")]
