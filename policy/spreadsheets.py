"""Text cells that a spreadsheet would run as formulas, kept as text (CSV injection).

A cell that starts with =, +, -, @, a tab or a carriage return is a formula to Excel, LibreOffice
and Google Sheets: a record's title could make the reader's spreadsheet compute, fetch a URL or
run a command. OWASP's remedy is to start such a cell with a single quote, which spreadsheets
show as text: https://owasp.org/www-community/attacks/CSV_Injection

Only text is escaped; a number, negative or not, stays a number. The escape is undone on import,
so a file exported and imported again changes nothing: a text that already starts with quotes
before one of those characters gets one more, and loses it again.
"""

import re

FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
ESCAPED_FORMULA_START = re.compile(r"'+[=+\-@\t\r]")


def escape_formula(text):
    """The text as a spreadsheet shows it without running it."""
    return f"'{text}" if FORMULA_START.match(text) else text


def unescape_formula(text):
    """The text that `escape_formula` was given."""
    return text[1:] if ESCAPED_FORMULA_START.match(text) else text
