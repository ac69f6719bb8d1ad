"""Nominal compositions of common alloys, in weight percent (balance element last).

Values are the middle of each specified range (or the typical value where a standard gives only
a maximum), which is how handbooks quote a "nominal" composition. They are a starting point
for a prediction, not a heat's certificate: MatLens says so next to every conversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ASM_1 = (
    "ASM Handbook Vol. 1, Properties and Selection: Irons, Steels, and High-Performance "
    "Alloys (ASM International, 1990)"
)
ASM_2 = (
    "ASM Handbook Vol. 2, Properties and Selection: Nonferrous Alloys and Special-Purpose "
    "Materials (ASM International, 1990)"
)
ASTM_A240 = "ASTM A240/A240M (stainless plate), mid-range of the specified limits"
ASTM_B209 = "ASTM B209 (aluminium sheet and plate), mid-range of the specified limits"
ASTM_B265 = "ASTM B265 Grade 5 (Ti-6Al-4V), mid-range of the specified limits"
SAE_J404 = "SAE J404 / AISI alloy steel chemical compositions, mid-range of the specified limits"


@dataclass(frozen=True)
class NamedAlloy:
    name: str
    aliases: tuple[str, ...]
    balance: str
    weight_percent: dict[str, float]  # every element but the balance
    source: str


ALLOYS: tuple[NamedAlloy, ...] = (
    NamedAlloy(
        "AISI 304",
        ("304", "SS304", "304 stainless", "UNS S30400", "1.4301"),
        "Fe",
        {"Cr": 19.0, "Ni": 9.25, "Mn": 1.0, "Si": 0.5, "C": 0.04},
        ASTM_A240,
    ),
    NamedAlloy(
        "AISI 316",
        ("316", "SS316", "316 stainless", "UNS S31600", "1.4401"),
        "Fe",
        {"Cr": 17.0, "Ni": 12.0, "Mo": 2.5, "Mn": 1.0, "Si": 0.5, "C": 0.04},
        ASTM_A240,
    ),
    NamedAlloy(
        "AISI 316L",
        ("316L", "SS316L", "UNS S31603", "1.4404"),
        "Fe",
        {"Cr": 17.0, "Ni": 12.0, "Mo": 2.5, "Mn": 1.0, "Si": 0.5, "C": 0.02},
        ASTM_A240,
    ),
    NamedAlloy("AISI 1045", ("1045", "C45"), "Fe", {"C": 0.46, "Mn": 0.75, "Si": 0.25}, SAE_J404),
    NamedAlloy(
        "AISI 4140",
        ("4140", "42CrMo4"),
        "Fe",
        {"C": 0.40, "Mn": 0.875, "Cr": 0.95, "Mo": 0.20, "Si": 0.25},
        SAE_J404,
    ),
    NamedAlloy(
        "18Ni(300) maraging steel",
        ("maraging 300", "C300", "18Ni300", "18Ni(300)"),
        "Fe",
        {"Ni": 18.5, "Co": 9.0, "Mo": 4.8, "Ti": 0.6, "Al": 0.1},
        ASM_1,
    ),
    NamedAlloy(
        "Al 6061",
        ("6061", "AA6061", "AA 6061", "Al6061", "6061-T6"),
        "Al",
        {"Mg": 1.0, "Si": 0.6, "Cu": 0.275, "Cr": 0.195, "Fe": 0.35, "Mn": 0.075, "Zn": 0.125},
        ASTM_B209,
    ),
    NamedAlloy(
        "Al 7075",
        ("7075", "AA7075", "AA 7075", "Al7075", "7075-T6"),
        "Al",
        {"Zn": 5.6, "Mg": 2.5, "Cu": 1.6, "Cr": 0.23, "Fe": 0.25, "Si": 0.2},
        ASTM_B209,
    ),
    NamedAlloy(
        "Al 2024",
        ("2024", "AA2024", "AA 2024", "Al2024", "2024-T3"),
        "Al",
        {"Cu": 4.4, "Mg": 1.5, "Mn": 0.6, "Fe": 0.25, "Si": 0.25},
        ASTM_B209,
    ),
    NamedAlloy(
        "Ti-6Al-4V (Grade 5)",
        ("Grade 5", "Ti Grade 5", "Ti64", "Ti 6-4", "TC4"),
        "Ti",
        {"Al": 6.0, "V": 4.0, "Fe": 0.15, "O": 0.1},
        ASTM_B265,
    ),
    NamedAlloy(
        "Inconel 718",
        ("IN718", "Alloy 718", "UNS N07718", "718"),
        "Ni",
        {"Cr": 19.0, "Fe": 18.5, "Nb": 5.1, "Mo": 3.05, "Ti": 0.9, "Al": 0.5},
        ASM_2,
    ),
)


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


_INDEX = {_key(n): a for a in ALLOYS for n in (a.name, *a.aliases)}
_INDEX.update({_key("AISI " + n): a for a in ALLOYS for n in a.aliases if n[:1].isdigit()})
_INDEX.update({_key("Al " + n): a for a in ALLOYS for n in a.aliases if n[:1].isdigit()})


def find_alloy(text: str) -> NamedAlloy | None:
    """The alloy a name refers to ("AISI 304", "304", "Al 6061", "AA7075"), or None."""
    return _INDEX.get(_key(text))


# Words that start an alloy's designation, not a formula ("AISI 9999" was read as the element
# A, then refused as "A is not a chemical element").
_DESIGNATION = re.compile(
    r"^(AISI|SAE|UNS|SS|AA|ASTM|DIN|EN|JIS|Inconel|Incoloy|Hastelloy|Monel|Nimonic|Stellite|"
    r"Waspaloy|Haynes|Rene|René|Ti\s*Grade|Grade|Alloy)(?=[\s\d-]|$)",
    re.IGNORECASE,
)


def unknown_designation(text: str) -> str | None:
    """The one line for an alloy designation not in the table ("AISI 9999"), or None when the
    text does not look like one."""
    if not _DESIGNATION.match(text.strip()):
        return None
    known = ", ".join(a.name for a in ALLOYS)
    return (
        f"'{text.strip()}' is not an alloy MatLens knows (it knows {known}): type the "
        "composition in weight percent, e.g. Fe-18Cr-8Ni"
    )
