"""OpenAPI pieces shared by several apps' views."""

from drf_spectacular.utils import OpenApiResponse

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The errors of an endpoint that any signed-in user may read and operators may change.
OPERATOR_API_ERRORS = {
    400: OpenApiResponse(description="Validation error: {detail, code, <field>: [...]}"),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Not an operator (staff)."),
    404: OpenApiResponse(description="Not found."),
}
