"""CHGNet as ONNX against CHGNet's own torch model, relaxation and equation of state."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from inference.errors import MatLensError
from inference.runtime.registry import FileStatus, card_status, get_card

# Small, varied real structures from the alignn set (2-16 atoms: oxides, chalcogenides...).
PARITY_FILES = [
    "POSCAR-JVASP-10.vasp",
    "POSCAR-JVASP-13526.vasp",
    "POSCAR-JVASP-1996.vasp",
    "POSCAR-JVASP-22556.vasp",
    "POSCAR-JVASP-64003.vasp",
    "POSCAR-JVASP-86097.vasp",
]


@pytest.fixture(scope="module")
def potential():
    if card_status(get_card("chgnet")) is not FileStatus.OK:
        pytest.skip("CHGNet ONNX not exported: run `make models`")
    from inference.prediction.potential import Potential

    return Potential()


def silicon() -> Structure:
    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]])


def test_onnx_matches_torch_chgnet(potential, shared_data):
    chgnet = pytest.importorskip("chgnet.model", reason="chgnet (a set-up dependency) missing")
    structures = [
        Structure.from_file(shared_data("structures", "alignn_poscar", name))
        for name in PARITY_FILES
    ]
    ours = potential.predict(structures)  # one batch of several structures
    model = chgnet.CHGNet.load(model_name="0.3.0", use_device="cpu", verbose=False)
    ref = model.predict_structure(structures, task="efsm", batch_size=16)
    for r, q in zip(ours, ref, strict=True):
        # Over all 70 alignn POSCARs: max 2.9e-6 eV/atom, 1.9e-4 eV/Å, 3.6e-4 GPa. Torch float32
        # itself is 6.2e-6 eV/atom and 1.3e-4 eV/Å from float64: the rest is float32 noise.
        assert abs(r.energy_per_atom - float(q["e"])) <= 1e-5
        np.testing.assert_allclose(r.forces, q["f"], atol=2e-4)
        np.testing.assert_allclose(r.stress, q["s"], atol=1e-3)  # GPa
        np.testing.assert_allclose(r.magmoms, q["m"].reshape(-1), atol=1e-4)


def test_batched_runs_on_two_cores_are_bit_identical(shared_data):
    if card_status(get_card("chgnet")) is not FileStatus.OK:
        pytest.skip("CHGNet ONNX not exported: run `make models`")
    from inference.prediction.potential import Potential

    structures = [
        Structure.from_file(shared_data("structures", "alignn_poscar", name))
        for name in PARITY_FILES
    ]
    pot = Potential(workers=2)
    first, second = pot.predict(structures, batch_atoms=16), pot.predict(structures, batch_atoms=16)
    for a, b in zip(first, second, strict=True):
        assert a.energy_per_atom == b.energy_per_atom
        assert np.array_equal(a.forces, b.forces) and np.array_equal(a.stress, b.stress)


def test_cell_with_bonds_to_its_own_images_matches_its_supercell(potential):
    # One-atom fcc Cu: every neighbour is a periodic image of the atom itself.
    cu = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]])
    primitive = cu.get_primitive_structure()
    one, four = potential.predict([primitive, cu])
    assert len(primitive) == 1 and len(cu) == 4
    assert one.energy_per_atom == pytest.approx(four.energy_per_atom, abs=1e-5)
    assert one.max_force < 1e-4 and four.max_force < 1e-4
    np.testing.assert_allclose(one.stress, four.stress, atol=1e-3)


def test_silicon_energy_and_symmetric_forces(potential):
    res = potential.predict_one(silicon())
    assert res.energy_per_atom == pytest.approx(
        -5.3123, abs=2e-3
    )  # torch CHGNet 0.3.0's energy for Si
    assert res.max_force < 1e-3  # every atom sits on an inversion centre
    assert res.stress.shape == (3, 3) and res.magmoms.shape == (8,)


def test_forces_are_minus_energy_gradient(potential):
    s = silicon()
    s.translate_sites([0], [0.05, -0.03, 0.02], frac_coords=False)
    f = potential.predict_one(s).forces[0, 0]
    h = 1e-3
    e = []
    for d in (h, -h):
        t = s.copy()
        t.translate_sites([0], [d, 0, 0], frac_coords=False)
        e.append(potential.predict_one(t).energy)
    assert f == pytest.approx(-(e[0] - e[1]) / (2 * h), abs=5e-3)


def test_relax_lowers_energy_and_forces(potential):
    from inference.jobs import CancelToken
    from inference.prediction.relax import relax

    s = silicon()
    rng = np.random.default_rng(0)
    for i in range(len(s)):
        s.translate_sites([i], rng.normal(0, 0.06, 3), frac_coords=False)
    s.scale_lattice(s.volume * 1.05)
    start = potential.predict_one(s)
    steps = []
    res = relax(
        s,
        potential,
        fmax=0.1,
        steps=100,
        progress=lambda f, m="": steps.append(f),
        cancel=CancelToken(),
    )
    assert res.final.energy_per_atom < start.energy_per_atom - 1e-3
    assert res.final.max_force < start.max_force
    assert res.converged and steps and res.energies[-1] < res.energies[0]


def test_relax_can_be_cancelled(potential):
    from inference.errors import JobCancelled
    from inference.jobs import CancelToken
    from inference.prediction.relax import relax

    token = CancelToken()
    token.cancel()
    s = silicon()
    s.translate_sites([0], [0.1, 0, 0], frac_coords=False)
    with pytest.raises(JobCancelled):
        relax(s, potential, cancel=token)


def test_eos_silicon_bulk_modulus(potential):
    from inference.prediction.eos import equation_of_state

    res = equation_of_state(silicon(), potential, strain=0.04, points=7)
    assert 60 < res.bulk_modulus < 120  # DFT-PBE ~88 GPa, experiment ~98 GPa
    assert res.v0 == pytest.approx(20.0, rel=0.06)  # 5.43³/8 = 20.0 Å³/atom


@pytest.mark.parametrize(
    "structure, words",
    [
        (Structure(Lattice.cubic(20.0), ["Fe"], [[0, 0, 0]]), "no neighbour"),
        (Structure(Lattice.cubic(3.0), [{"Fe": 0.5, "Ni": 0.5}], [[0, 0, 0]]), "ordered"),
    ],
)
def test_bad_structures_one_line(potential, structure, words):
    with pytest.raises(MatLensError) as err:
        potential.predict([structure])
    assert words in str(err.value) and "\n" not in str(err.value)


def test_memory_warning_for_huge_cells():
    from inference.prediction.potential import memory_warning

    big = Structure(Lattice.cubic(3.0), ["Cu"], [[0, 0, 0]]) * (14, 14, 14)
    assert "memory" in memory_warning(big)
    assert memory_warning(silicon()) == ""


def test_the_bar_follows_the_equation_of_state(potential, shared_data):
    """E(V) predicts nine cells after the first prediction: the job bar (fed by these messages)
    said "1/1 structures" at 100 % the whole time, a frozen bar on a large cell."""
    from inference.prediction.service import run_prediction

    seen: list[tuple[float, str]] = []
    path = shared_data("structures", "alignn_poscar", "POSCAR-JVASP-1996.vasp")
    report = run_prediction(str(path), eos=True, progress=lambda f, m: seen.append((f, m)))
    assert any(r.quantity == "bulk modulus" for r in report.rows)
    eos = [(f, m) for f, m in seen if m.startswith("E(V): ")]
    assert eos and eos[-1] == (1.0, "E(V): 9/9 volumes"), seen
    first = next(i for i, (_, m) in enumerate(seen) if m.startswith("E(V): "))
    assert all(m.startswith("E(V): ") for _, m in seen[first:]), seen[first:]
