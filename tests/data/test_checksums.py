"""Every shipped data file matches the checksum recorded in data/SHA256SUMS."""

from __future__ import annotations

import hashlib

import pytest

from wardanalysis.paths import shipped_data_dir

ROOT = shipped_data_dir()
ENTRIES = [
    line.split(maxsplit=1)
    for line in (ROOT / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


@pytest.mark.parametrize(("digest", "name"), ENTRIES, ids=[e[1] for e in ENTRIES])
def test_file_matches_its_recorded_checksum(digest, name):
    data = (ROOT / name.strip()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest, (
        f"{name} changed: if deliberate, run `make checksums` and say why in the commit"
    )


def test_snapshots_match_shared_copies_when_present():
    """The snapshots in data/snapshots are byte copies of the documents in ../shared."""
    shared = ROOT.parent.parent / "shared"
    pairs = {
        "snapshots/kumamoto_review_2024.txt": shared / "seed" / "000_96a0a3665d5a654c.txt",
        "snapshots/public_figures.md": shared / "reference" / "public_figures.md",
        "snapshots/public_figures_2026-12b.md": shared / "reference" / "public_figures_2026-12b.md",
    }
    present = {k: v for k, v in pairs.items() if v.is_file()}
    if not present:
        pytest.skip("../shared is not beside this checkout")
    for ours, theirs in present.items():
        assert (ROOT / ours).read_bytes() == theirs.read_bytes(), ours
