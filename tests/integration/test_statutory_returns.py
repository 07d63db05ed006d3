"""`lantern export ssda903|annex-a` and `lantern validate ssda903`: a store whose
events are appended as the services append them (the read model kept by the
projector alone), on SQLite and PostgreSQL; the files are the plain computation's
rows (tests/statutory_world.py). The real DfE validator (its own environment, made
on first use) passes Lantern's export of valid data with the council's Header and
Episodes tables, and names the DfE rule of each planted fault. Bad arguments stop
the command (exit 2) naming the option, with nothing written."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from tests.integration.test_report_command import append_world, lantern
from tests.reports_world import COUNCIL, Ep, Kid, World, generate, merged, z
from tests.statutory_world import LIST8_DAY, list8_rows, missing_rows, statutory_edges
from tests.unit.reports.test_statutory import NOW, world_of

MISSING_HEADER = ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END")
LIST8_HEADER = (
    "ChildUniqueID", "EpisodesChildMissingFromPlacement",
    "EpisodesChildAbsentFromPlacement", "ChildOfferedReturnInterviewAfterLastMFH",
    "ChildAcceptedReturnInterviewAfterLastMFH",
)  # fmt: skip


def read_csv(path: Path) -> list[tuple[str, ...]]:
    with path.open(newline="", encoding="utf-8") as f:
        return [tuple(row) for row in csv.reader(f)]


class TestExports:
    def test_the_missing_table_of_a_year(self, database_url: str, tmp_path: Path):
        world = merged(statutory_edges(), world_of(4))
        append_world(database_url, world)
        out = tmp_path / "return"
        done = lantern(database_url, "export", "ssda903", "--year", "2026",
                       "--out", str(out))  # fmt: skip
        assert done.exit_code == 0, done.output
        rows = read_csv(out / "missing.csv")
        assert rows == [MISSING_HEADER, *missing_rows(world, 2026)]
        assert len(rows) > 20

    def test_list8_on_a_day(self, database_url: str, tmp_path: Path):
        world = merged(statutory_edges(), world_of(5))
        append_world(database_url, world)
        out = tmp_path / "list8.csv"
        done = lantern(database_url, "export", "annex-a", "--at",
                       LIST8_DAY.isoformat(), "--out", str(out))  # fmt: skip
        assert done.exit_code == 0, done.output
        rows = read_csv(out)
        assert rows == [LIST8_HEADER, *list8_rows(world, LIST8_DAY)]
        assert any(r[1] not in ("0", LIST8_HEADER[1]) for r in rows)


# -- the DfE validator ------------------------------------------------------------


def council_tables(world: World, folder: Path, **care_starts: date) -> None:
    """The council's Header and Episodes tables, as its case-management system
    would send them: one episode of care per period (``care_starts``: a child's
    care said to start otherwise)."""
    dmy = "%d/%m/%Y"
    kids = [k for k in world.kids if k.placing == COUNCIL]
    with (folder / "header.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"])
        for k in kids:
            out.writerow([k.id, "M", k.dob.strftime(dmy), "WBRI", "UN2", "", ""])
    with (folder / "episodes.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER",
                      "DEC", "REC", "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST",
                      "URN"])  # fmt: skip
        for k in kids:
            for start, _ in k.periods:
                start = care_starts.get(k.id, start)
                out.writerow([k.id, start.strftime(dmy), "S", "C2", "N1", "U1",
                              "PR1", "", "", "", "ME14 1XQ", "CT1 1AA",
                              "SC123456"])  # fmt: skip


def valid_world() -> World:
    """Generated, each child in care since before the year and still, and a child
    away from placement across 1 April and one still missing."""
    world = generate(7, kids=40, first=date(2025, 5, 1), last=date(2026, 3, 1),
                     now=NOW)  # fmt: skip
    for kid in world.kids:
        kid.placing, kid.periods = COUNCIL, [(date(2023, 1, 1), None)]
    world.kids += [Kid("V1", False, COUNCIL, [(date(2024, 1, 1), None)]),
                   Kid("V2", False, COUNCIL, [(date(2024, 1, 1), None)])]  # fmt: skip
    world.eps += [Ep("V1-1", "V1", "A", z("2025-03-31T22:30"), z("2025-04-02T10:00")),
                  Ep("V2-1", "V2", "M", z("2026-03-01T10:00"))]  # fmt: skip
    return world


def export_and_validate(database: str, world: World, folder: Path, **care: date):
    append_world(database, world)
    done = lantern(database, "export", "ssda903", "--year", "2026", "--out",
                   str(folder))  # fmt: skip
    assert done.exit_code == 0, done.output
    council_tables(world, folder, **care)
    return lantern(database, "validate", "ssda903", str(folder), "--year", "2026")


def rule_codes(output: str) -> set[str]:
    return {line.split("\t")[0] for line in output.splitlines() if "\t" in line}


def test_the_validators_environment_is_made_on_first_use(tmp_path: Path):
    """Where LANTERN_VALIDATOR_CACHE says, named by the pins' hash, from nothing."""
    folder, cache = tmp_path / "return", tmp_path / "cache"
    folder.mkdir()
    council_tables(World(), folder)
    (folder / "missing.csv").write_text(",".join(MISSING_HEADER) + "\n")
    done = CliRunner().invoke(
        app, ["validate", "ssda903", str(folder), "--year", "2026"],
        env={"LANTERN_VALIDATOR_CACHE": str(cache)},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "0 errors" in done.output
    [made] = cache.iterdir()
    assert made.name.startswith("validator-903-")
    assert (made / "bin" / "python").exists()


def test_lanterns_export_of_valid_data_passes(sqlite_database: str, tmp_path: Path):
    world = valid_world()
    done = export_and_validate(sqlite_database, world, tmp_path)
    assert done.exit_code == 0, done.output
    assert "0 errors" in done.output
    assert len(read_csv(tmp_path / "missing.csv")) > 30


def one_child(*eps: Ep, dob: date = date(2010, 1, 1)) -> World:
    world = World(kids=[Kid("F1", False, COUNCIL, [(date(2024, 1, 1), None)], dob)])
    world.eps += eps
    return world


FAULTS = {
    "ends before it starts (567)": (
        one_child(Ep("F1-1", "F1", "M", z("2025-06-10T10:00"), z("2025-06-08T10:00"))),
        {}, {"567"},
    ),
    "overlapping episodes (574)": (
        one_child(Ep("F1-1", "F1", "M", z("2025-06-10T10:00"), z("2025-06-20T10:00")),
                  Ep("F1-2", "F1", "A", z("2025-06-15T10:00"), z("2025-06-16T10:00"))),
        {}, {"574"},
    ),
    # the council's system says care began after it (the validator's period of
    # care logic adds 577 and 578)
    "outside any period of care (581)": (
        one_child(Ep("F1-1", "F1", "M", z("2025-06-10T10:00"), z("2025-06-11T10:00"))),
        {"F1": date(2025, 9, 1)}, {"577", "578", "581"},
    ),
    # (care began before the birth too: 302, in the Header and Episodes tables)
    "starts before birth (586)": (
        one_child(Ep("F1-1", "F1", "M", z("2025-06-10T10:00"), z("2025-06-11T10:00")),
                  dob=date(2025, 7, 1)),
        {}, {"302", "586"},
    ),
}  # fmt: skip
"""Each fault: the world, the council's care starts, the DfE rules broken."""


@pytest.mark.parametrize("fault", FAULTS)
def test_a_planted_fault_names_its_dfe_rule(
    sqlite_database: str, tmp_path: Path, fault: str
):
    world, care, codes = FAULTS[fault]
    done = export_and_validate(sqlite_database, world, tmp_path, **care)
    assert done.exit_code == 1, done.output
    assert rule_codes(done.output) == codes, done.output
    assert "missing.csv row 1\tchild F1\t" in done.output


# -- bad arguments ----------------------------------------------------------------


class TestBadArguments:
    @pytest.mark.parametrize(
        ("year", "says"),
        [("twenty", "'--year'"), ("2014", "--year 2014 is outside"),
         ("30000", "--year 30000 is outside")],
    )  # fmt: skip
    def test_a_year_not_a_collection_year(
        self, sqlite_database: str, tmp_path: Path, year: str, says: str
    ):
        out = tmp_path / "return"
        export = lantern(sqlite_database, "export", "ssda903", "--year", year,
                         "--out", str(out))  # fmt: skip
        council_tables(World(), tmp_path)
        (tmp_path / "missing.csv").write_text(",".join(MISSING_HEADER) + "\n")
        check = lantern(sqlite_database, "validate", "ssda903", str(tmp_path),
                        "--year", year)  # fmt: skip
        for done in (export, check):
            assert done.exit_code == 2, done.output
            assert says in done.output
        assert not out.exists()

    def test_an_out_folder_that_cannot_be_made(
        self, sqlite_database: str, tmp_path: Path
    ):
        (tmp_path / "file").write_text("")
        out = tmp_path / "file" / "return"
        done = lantern(sqlite_database, "export", "ssda903", "--year", "2026",
                       "--out", str(out))  # fmt: skip
        assert done.exit_code == 2
        assert f"--out {out}: cannot make the folder" in done.output

    @pytest.mark.parametrize("name", ["nowhere/list8.csv", "."])
    def test_a_list8_file_that_cannot_be_written(
        self, sqlite_database: str, tmp_path: Path, name: str
    ):
        (base := tmp_path / "out").mkdir()
        out = base / name
        done = lantern(sqlite_database, "export", "annex-a", "--at", "2026-03-31",
                       "--out", str(out))  # fmt: skip
        assert done.exit_code == 2
        assert f"--out {out}:" in done.output
        assert list(base.iterdir()) == []

    @pytest.mark.parametrize(
        ("at", "says"),
        [("31/03/2026", "'--at'"), ("0001-01-01", "--at 0001-01-01 is outside")],
    )
    def test_a_day_not_a_date(
        self, sqlite_database: str, tmp_path: Path, at: str, says: str
    ):
        out = tmp_path / "list8.csv"
        done = lantern(sqlite_database, "export", "annex-a", "--at", at,
                       "--out", str(out))  # fmt: skip
        assert done.exit_code == 2
        assert says in done.output
        assert not out.exists()

    def test_a_folder_missing_or_without_its_tables(
        self, sqlite_database: str, tmp_path: Path
    ):
        gone = lantern(sqlite_database, "validate", "ssda903",
                       str(tmp_path / "gone"), "--year", "2026")  # fmt: skip
        assert gone.exit_code == 2
        assert "FOLDER" in gone.output and "no such folder" in gone.output
        (tmp_path / "missing.csv").write_text(",".join(MISSING_HEADER) + "\n")
        bare = lantern(sqlite_database, "validate", "ssda903", str(tmp_path),
                       "--year", "2026")  # fmt: skip
        assert bare.exit_code == 2
        assert "has no header.csv, episodes.csv" in bare.output
