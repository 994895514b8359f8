import csv
import io

import kiln


class ReadCsv(kiln.Operation):
    """Reads a CSV file (an uploaded artifact's bytes) into columns.

    The first row names the columns. A column whose every value is a number
    becomes a list of floats; any other column stays text. Empty cells are None.
    """

    def __init__(self, delimiter: str = ",", encoding: str = "utf-8"):
        self.delimiter = delimiter
        self.encoding = encoding

    def execute(self, file: bytes) -> dict:
        text = file.decode(self.encoding) if isinstance(file, bytes) else str(file)
        rows = list(csv.reader(io.StringIO(text), delimiter=self.delimiter))
        if not rows:
            raise ValueError("the CSV file is empty")
        header, body = rows[0], [r for r in rows[1:] if r]
        table = {}
        for i, name in enumerate(header):
            cells = [r[i].strip() if i < len(r) else "" for r in body]
            table[name] = _numbers(cells) or [c or None for c in cells]
        kinds = ", ".join(f"{n} ({'number' if _is_numeric(table[n]) else 'text'})" for n in header)
        print(f"read {len(body)} rows of {len(header)} columns: {kinds}")
        return table


def _numbers(cells):
    out = []
    for c in cells:
        if c == "":
            out.append(None)
            continue
        try:
            out.append(float(c))
        except ValueError:
            return None
    return out if any(v is not None for v in out) else None


def _is_numeric(values):
    return any(isinstance(v, float) for v in values)
