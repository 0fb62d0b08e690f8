"""The refusals of imports (see core.errors). A bad cell is not one: it is collected as a row
error of the job (`imports.formats.CellError`)."""

from core.errors import Conflict, Invalid


class NotDryRun(Conflict):
    default_code = "not_dry_run"
    # Untranslated like the rest of imports' messages; core.errors.Conflict's own lazy string
    # narrows the attribute to a promise (its annotation belongs in core.errors).
    default_message = "This job is not a dry run."


class FileFormatError(Invalid):
    """The file cannot be read as a spreadsheet of this kind (answered with a 400)."""

    default_code = "invalid_file"

    def __init__(self, message: str, code: str = "invalid_file") -> None:
        super().__init__(message, code=code)
