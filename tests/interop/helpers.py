"""Building CSV files the way other systems export them."""

import csv
import io

HEADER = ["First name", "Last name", "Date of birth", "Phone", "Email"]


def csv_text(rows: list[list[str]], header: list[str] | None = None, delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER if header is None else header)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_bytes(rows: list[list[str]], header: list[str] | None = None, bom: bool = False) -> bytes:
    return ("\ufeff" if bom else "").encode() + csv_text(rows, header).encode()


def good_row(n: int = 0) -> list[str]:
    return [f"Ada{n}", "Lovelace", "10/12/1985", "07911 123456", f"ada{n}@example.com"]
