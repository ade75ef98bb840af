"""CSV exports never hand a spreadsheet program a formula from text someone typed in."""

import csv
import io
from decimal import Decimal

from rathaus.core.exports import csv_response, neutralised


def test_text_that_a_spreadsheet_reads_as_a_formula_is_neutralised():
    for text in ['=HYPERLINK("https://evil.example","Klick")', "=cmd|' /C calc'!A0", "+1+2",
                 "-2+3", "@SUM(A1:A2)", "\t=1+2", "\r=1+2"]:  # fmt: skip
        assert neutralised(text) == "'" + text


def test_numbers_and_harmless_text_stay_as_they_are():
    assert [neutralised(v) for v in (-3, 0, 2.5, -1.25, Decimal("-10.50"), None)] == [
        -3, 0, 2.5, -1.25, Decimal("-10.50"), None
    ]  # fmt: skip
    # Text that is only a number (a German decimal, a phone number without spaces) is no formula.
    assert [neutralised(v) for v in ("-1,5", "+4930123456", "12.5")] == [
        "-1,5",
        "+4930123456",
        "12.5",
    ]
    assert neutralised("Erika Muster") == "Erika Muster"
    assert neutralised("a=b") == "a=b"


def test_the_export_writer_neutralises_every_cell_of_every_row():
    response, writer = csv_response("probe.csv")
    writer.writerow(["=1+2", -4, Decimal("-0.5"), "Name"])
    writer.writerows([["@x", "y"], ["-z", 7]])
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["'=1+2", "-4", "-0.5", "Name"], ["'@x", "y"], ["'-z", "7"]]
