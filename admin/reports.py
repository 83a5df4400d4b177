"""Reports: the last 30 days' ratings and each agent's share of good ones."""

from flask import render_template
from flask_login import login_required

from admin import bp
from models import Rating


@bp.get("/reports")
@login_required
def reports():
    """Ratings over the last 30 days and, for the same ratings, each agent's share of good ones."""
    days = Rating.per_day(30)
    return render_template(
        "admin/reports.html",
        days=days,
        chart=rating_chart(days),
        per_agent=Rating.share_good_per_agent(30),
        total_good=sum(good for _, good, _ in days),
        total_bad=sum(bad for _, _, bad in days),
    )


def rating_chart(days, width=720, height=200, pad=28):
    """Bars for a server-drawn SVG chart: per day, good stacked under bad."""
    peak = max([good + bad for _, good, bad in days] + [1])
    slot = (width - pad) / len(days)
    scale = (height - pad) / peak
    bars = []
    for index, (day, good, bad) in enumerate(days):
        x = pad + index * slot + slot * 0.15
        good_height, bad_height = good * scale, bad * scale
        base = height - pad
        bars.append({
            "day": day, "good": good, "bad": bad, "x": round(x, 1), "w": round(slot * 0.7, 1),
            "good_y": round(base - good_height, 1), "good_h": round(good_height, 1),
            "bad_y": round(base - good_height - bad_height, 1), "bad_h": round(bad_height, 1),
        })  # fmt: skip
    return {"bars": bars, "width": width, "height": height, "pad": pad, "peak": peak}
