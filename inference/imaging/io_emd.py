"""EMD files (Berkeley/NCEM and Thermo Fisher Velox) through rosettasciio.

The HDF5 file is opened here, not by rosettasciio's `file_reader`, so that lazy reading can
still close it (a lazy `file_reader` leaves the handle open, which locks the file on
Windows). Velox files that hold an EDS spectrum image are read images-only: rosettasciio
otherwise insists on the optional `sparse` package even when only images are wanted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inference.errors import UnreadableFile
from inference.imaging import signals
from inference.imaging.formats import broken

if TYPE_CHECKING:
    from pathlib import Path

    from inference.imaging.micrograph import Micrograph


def _h5py():
    try:
        import h5py
    except ImportError as exc:  # rosettasciio lists h5py as an optional extra
        raise UnreadableFile("reading EMD/HDF5 files needs the 'h5py' package") from exc
    return h5py


def _velox_images_reader():
    from rsciio.emd._emd_velox import FeiEMDReader

    signals.quiet_rsciio()

    class _ImagesOnly(FeiEMDReader):
        def _read_data(self, select_type):  # images only, never the spectrum image
            self.load_images, self.load_SI, self.load_single_spectrum = True, False, False
            self._read_images()

    return _ImagesOnly(lazy=True)


def _signals(h5file, path: Path) -> tuple[list[dict], str]:
    from rsciio.emd._api import is_EMD_NCEM, is_EMD_Velox
    from rsciio.emd._emd_ncem import EMD_NCEM

    signals.quiet_rsciio()

    if is_EMD_Velox(h5file):
        reader = _velox_images_reader()
        reader.read_file(h5file)
        return reader.dictionaries, "Velox"
    if is_EMD_NCEM(h5file):
        reader = EMD_NCEM()
        try:
            reader.read_file(h5file, lazy=True)
        except NotImplementedError:  # object-dtype datasets cannot be lazy
            reader = EMD_NCEM()
            reader.read_file(h5file, lazy=False)
        return reader.dictionaries, "Berkeley"
    raise UnreadableFile(
        f"HDF5 file holds neither a HyperSpy signal nor EMD (Velox, Berkeley) data: {path.name}"
    )


def _is_detector_image(signal: dict) -> bool:
    """Velox detector images (HAADF, BF, DF4...) carry a DetectorIndex; EDS maps do not."""
    result = signal.get("original_metadata", {}).get("BinaryResult", {})
    return "DetectorIndex" in result


def _describe(signal: dict) -> dict[str, str]:
    om = signal.get("original_metadata", {})
    meta: dict[str, str] = {}
    instrument = om.get("Instrument", {})
    model = f"{instrument.get('Manufacturer', '')} {instrument.get('InstrumentModel', '')}"
    if model.strip():
        meta["microscope"] = model.strip()
    optics = om.get("Optics", {})
    if hv := optics.get("AccelerationVoltage"):
        meta["HV"] = f"{float(hv) / 1000:g} kV"
    if mag := optics.get("NominalMagnification"):
        meta["magnification"] = f"{float(mag):.0f}×"
    if detector := om.get("BinaryResult", {}).get("Detector"):
        meta["detector"] = str(detector)
    general = signal.get("metadata", {}).get("General", {})
    meta["date"] = f"{general.get('date', '')} {general.get('time', '')}".strip()
    return meta


def _describe_with_spectrum_image(signal: dict) -> dict[str, str]:
    return {**_describe(signal), "not loaded": "EDS spectrum image (MatLens reads images only)"}


def _with_signals(path: Path, use):
    """Open, pick and read inside one `with`, so the HDF5 file is closed afterwards."""
    h5py = _h5py()
    try:
        h5file = h5py.File(path, "r")
    except OSError as exc:
        raise broken(path, "EMD") from exc
    with h5file:
        found, flavour = _signals(h5file, path)
        data = h5file.get("Data")
        return use(found, flavour, isinstance(data, h5py.Group) and "SpectrumImage" in data)


def count_frames(path: Path) -> int:
    def count(found, flavour, has_si):
        return signals.n_frames(signals.pick_image(found, path.name, _is_detector_image))

    return _with_signals(path, count)


def read(path: Path, frame: int = 0) -> Micrograph:
    def build(found, flavour, has_si):
        describe = _describe_with_spectrum_image if has_si else _describe
        fmt = f"EMD ({flavour})"
        return signals.to_micrograph(found, path, frame, fmt, "EMD", describe, _is_detector_image)

    return _with_signals(path, build)
