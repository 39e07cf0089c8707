"""Reading an export as a stream of source tickets, never the whole file at once.

The file may be plain or gzipped CSV (recognised by its first bytes, not its name). Rows are read one at a time;
with an `[events]` section, consecutive rows sharing the group-by value form one ticket, so memory holds one
ticket's rows however long the file. A row that cannot be read (wrong number of cells, undecodable text, no
group value, or a ticket whose rows are not consecutive) is handed to `on_bad_row` with its line number, and
reading goes on.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .mapping import Mapping, MappingError

__all__ = ['SourceFile', 'SourceRow', 'SourceTicket']

GZIP_MAGIC = b'\x1f\x8b'


@dataclass
class SourceRow:
    line: int  # the line the row starts on; the header is line 1
    cells: dict[str, str]
    raw: list[str]


@dataclass
class SourceTicket:
    """One ticket's rows as they stand in the file (events in file order)."""

    key: str
    rows: list[SourceRow] = field(default_factory=list)

    @property
    def first_line(self) -> int:
        return self.rows[0].line


class SourceFile:
    """An open export: its header checked against the mapping, its rows grouped into tickets on iteration."""

    def __init__(self, path: str | Path, mapping: Mapping):
        self.path = Path(path)
        self.mapping = mapping
        if not self.path.is_file():
            raise FileNotFoundError(f'{self.path}: no such file.')
        self.size = os.path.getsize(self.path)
        self._raw = open(self.path, 'rb')  # noqa: SIM115 - closed by close() / the context manager
        try:
            self.compressed = self._raw.read(2) == GZIP_MAGIC
            self._raw.seek(0)
            binary = gzip.GzipFile(fileobj=self._raw) if self.compressed else self._raw
            # Undecodable bytes become U+FFFD and their row is reported, instead of ending the import there.
            self._text = io.TextIOWrapper(binary, encoding=mapping.encoding, errors='replace', newline='')
            self._reader = csv.reader(self._text, delimiter=mapping.delimiter)
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise
        self.rows_read = 0

    def __enter__(self) -> SourceFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._raw.close()

    @property
    def position(self) -> int:
        """Bytes of the file read so far (compressed bytes for a gzipped file), for the progress bar."""
        try:
            return self._raw.tell()
        except (ValueError, OSError):
            return self.size

    def _read_header(self) -> list[str]:
        try:
            header = next(self._reader)
        except StopIteration:
            raise MappingError(f'{self.path.name} is empty: expected a header line.') from None
        except (csv.Error, OSError, EOFError) as error:
            raise MappingError(f'{self.path.name}: line 1 cannot be read: {error}.') from None
        header = [name.strip() for name in header]
        if header and header[0].startswith('\ufeff'):
            header[0] = header[0][1:]
        missing = {column: key for column, key in self.mapping.columns().items() if column not in header}
        if missing:
            listed = ', '.join(f'"{column}" ({key})' for column, key in missing.items())
            raise MappingError(f'{self.path.name}: line 1: the mapping reads column(s) the file lacks: {listed}.')
        return header

    def rows(self, on_bad_row: Callable[[int, str, str], None]) -> Iterator[SourceRow]:
        width = len(self.header)
        last_line = 1
        while True:
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                line, last_line = last_line + 1, self._reader.line_num
                on_bad_row(line, f'cannot be read as CSV: {error}.', '')
                continue
            line, last_line = last_line + 1, self._reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            self.rows_read += 1
            if len(values) != width:
                on_bad_row(line, f'has {len(values)} values where the header has {width} columns.', '')
                continue
            if any('\ufffd' in value for value in values):
                on_bad_row(line, f'is not valid {self.mapping.encoding} text.', '')
                continue
            yield SourceRow(line=line, cells=dict(zip(self.header, values, strict=True)), raw=values)

    def tickets(self, on_bad_row: Callable[[int, str, str], None]) -> Iterator[SourceTicket]:
        """Source tickets in file order: one per row, or one per run of rows sharing the group-by value."""
        mapping = self.mapping
        seen: set[str] = set()  # one short string per ticket, to catch a ticket given twice
        if not mapping.events:
            column = mapping.fields['source_number'].column
            for row in self.rows(on_bad_row):
                key = row.cells[column].strip()
                key = '' if key in mapping.missing else key
                if key and key in seen:
                    on_bad_row(row.line, f'{column} "{key}" appeared earlier in the file; this row is skipped.', key)
                    continue
                seen.add(key)
                yield SourceTicket(key=key, rows=[row])
            return
        current: SourceTicket | None = None
        for row in self.rows(on_bad_row):
            key = row.cells[mapping.group_by].strip()
            if key in mapping.missing:
                on_bad_row(row.line, f'{mapping.group_by}: no value, so the row belongs to no ticket.', '')
                continue
            if current is not None and key == current.key:
                current.rows.append(row)
                continue
            if current is not None:
                yield current
            if key in seen:
                on_bad_row(
                    row.line,
                    f'{mapping.group_by} "{key}" appeared earlier in the file: the rows of a ticket must be '
                    'consecutive, so this row is skipped.',
                    key,
                )
                current = None
                continue
            seen.add(key)
            current = SourceTicket(key=key, rows=[row])
        if current is not None:
            yield current
