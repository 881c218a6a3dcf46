"""The formats the control panel exports in (django-import-export), each escaping formulae.

The library's own escaping (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT) drops one leading "=" and
nothing else, so "==HYPERLINK(...)", "+cmd|..." or "@SUM(...)" still run in a spreadsheet. These
formats prefix such a cell with a quote instead (OWASP's advice): the text is kept, as text.
"""

import re

from import_export.formats import base_formats

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number ("-12.5") is not a formula; a spreadsheet reads it as the number it is.
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def escape_formula(text: str) -> str:
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class _EscapingFormat:
    def _escape_formulae(self, dataset):
        for _ in range(len(dataset)):
            row = dataset.lpop()
            dataset.append([escape_formula(str(cell)) for cell in row])


class CSV(_EscapingFormat, base_formats.CSV):
    pass


class TSV(_EscapingFormat, base_formats.TSV):
    pass


class JSON(_EscapingFormat, base_formats.JSON):
    pass


class YAML(_EscapingFormat, base_formats.YAML):
    pass


class HTML(_EscapingFormat, base_formats.HTML):
    pass


FORMATS = [CSV, TSV, JSON, YAML, HTML]
