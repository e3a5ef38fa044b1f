import xml.etree.ElementTree as ET

from clinic.reports import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert not [e for e in root.iter() if "style" in e.attrib], "no style attributes (CSP)"
    return root


def _bars(**overrides) -> str:
    arguments = {
        "chart_id": "chart-test",
        "title": "Appointments per week",
        "description": "Four appointments in two weeks.",
        "categories": ["3 Mar", "10 Mar"],
        "series": [charts.Series("Amy <A&B>", [3, 1]), charts.Series("Ben", [0, 2])],
        "unit": "appointments",
    }
    return charts.bar_chart(**{**arguments, **overrides})


def test_a_bar_chart_is_well_formed_svg_with_a_title_and_a_description():
    root = _parse(_bars())
    assert root.find(f"{SVG}title").text == "Appointments per week"
    assert root.find(f"{SVG}desc").text == "Four appointments in two weeks."
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-test-title chart-test-desc"


def test_every_bar_says_its_value_and_names_are_escaped():
    root = _parse(_bars())
    titles = [rect.find(f"{SVG}title").text for rect in root.iter(f"{SVG}rect") if len(rect)]
    assert "3 Mar · Amy <A&B>: 3 appointments" in titles
    assert "10 Mar · Ben: 2 appointments" in titles


def test_stacked_bars_reach_the_weeks_total():
    root = _parse(_bars(stacked=True))
    ticks = [t.text for t in root.find(f"{SVG}g[@class='axis axis-y']").iter(f"{SVG}text")]
    assert ticks[-2:] == ["3", "appointments"]


def test_a_line_chart_is_well_formed_with_a_point_per_value_and_gaps_for_no_data():
    svg = charts.line_chart(
        chart_id="chart-rates",
        title="No-show rate",
        description="25 % then none.",
        categories=["3 Mar", "10 Mar", "17 Mar"],
        series=[charts.Series("No-shows", [25.0, None, 12.5])],
    )
    root = _parse(svg)
    points = [c.find(f"{SVG}title").text for c in root.iter(f"{SVG}circle")]
    assert points == ["3 Mar · No-shows: 25%", "17 Mar · No-shows: 12.5%"]
    assert not list(root.iter(f"{SVG}polyline"))


def test_a_horizontal_bar_chart_shows_each_value_and_note():
    svg = charts.horizontal_bar_chart(
        chart_id="chart-kinds",
        title="Interventions",
        description="Three started.",
        labels=["Exercise", "Taping"],
        values=[2, 1],
        notes=["recommended", "uncertain"],
    )
    texts = [t.text for t in _parse(svg).iter(f"{SVG}text")]
    assert "2 · recommended" in texts
    assert "1 · uncertain" in texts


def test_a_chart_without_data_says_so():
    for svg in (
        _bars(categories=[], series=[]),
        charts.line_chart(
            chart_id="c", title="t", description="d", categories=["3 Mar"], series=[]
        ),
        charts.horizontal_bar_chart(chart_id="c", title="t", description="d", labels=[], values=[]),
    ):
        texts = [t.text for t in _parse(svg).iter(f"{SVG}text")]
        assert texts == ["No data for this period."]


def test_ticks_are_round_numbers_covering_the_highest_value():
    assert charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    assert charts.nice_ticks(0) == [0, 1]
