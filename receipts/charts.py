"""A small hand-written SVG bar chart: takings per hour, purchase counts on top of the bars."""

from decimal import Decimal
from xml.sax.saxutils import escape

from receipts.models import Place

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 60, 10, 36, 34


def last_day_svg(*, place: Place, series: list[dict]) -> str:
    """SVG of `series` (24 hourly entries with hour, purchases, total_amount)."""
    peak = max((entry["total_amount"] for entry in series), default=Decimal(0)) or Decimal(1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(series), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="10">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">'
        f"{escape(place.code)} {escape(place.name)}: takings per hour, last 24 hours</text>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{peak:.0f}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for n, entry in enumerate(series):
        height = float(entry["total_amount"] / peak) * plot_h
        x = LEFT + n * slot + 2
        y = TOP + plot_h - height
        title = (
            f"{entry['hour']:%Y-%m-%d %H:00}: {entry['purchases']} purchases, "
            f"{entry['total_amount']:.2f}"
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot - 4:.1f}" height="{height:.1f}" '
            f'fill="#4a7fb5"><title>{escape(title)}</title></rect>'
        )
        if entry["purchases"]:
            parts.append(
                f'<text x="{x + (slot - 4) / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">'
                f"{entry['purchases']}</text>"
            )
        if n % 3 == 0:
            parts.append(
                f'<text x="{x + (slot - 4) / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                f'text-anchor="middle">{entry["hour"]:%H}:00</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)
