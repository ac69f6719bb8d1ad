"""What a person reads for each composition model: its name, the quantity, the unit shown.

The models keep their training targets (log10 of GPa for the moduli); the run time converts to
the display unit (`display_transform` "pow10": 10**value, intervals included).
"""

from __future__ import annotations

DISPLAY: dict[str, dict] = {
    "band_gap": {
        "label": "band gap",
        "model_name": "Experimental band gap model (matbench expt_gap)",
    },
    "is_metal": {
        "label": "probability of being a metal",
        "model_name": "Metal / non-metal classifier (matbench expt_is_metal)",
    },
    "formation_energy": {
        "label": "formation energy (DFT, PBE)",
        "model_name": "Formation energy model (Materials Project PBE, matbench mp_e_form)",
    },
    "log10_bulk_modulus": {
        "label": "bulk modulus (VRH, DFT)",
        "display_property": "bulk_modulus",
        "display_unit": "GPa",
        "display_transform": "pow10",
        "model_name": "Bulk modulus model (Materials Project PBE elasticity)",
    },
    "log10_shear_modulus": {
        "label": "shear modulus (VRH, DFT)",
        "display_property": "shear_modulus",
        "display_unit": "GPa",
        "display_transform": "pow10",
        "model_name": "Shear modulus model (Materials Project PBE elasticity)",
    },
    "yield_strength": {
        "label": "yield strength",
        "model_name": "Steel yield strength model (matbench steels: high-strength steels)",
    },
}


def apply_display(card: dict) -> dict:
    """The card with its human name and display fields (in place, returned)."""
    extra = card["extra"]
    extra.update(DISPLAY[extra["property"]])
    card["name"] = extra["model_name"]
    return card
