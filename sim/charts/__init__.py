"""sim.charts: matplotlib figures in one house style, and the one-page briefing (DESIGN §9).

Each chart is a pure data step (``*_chart_data``, tested for values) and a drawing step
(``plot_*(data, ax=None) -> Figure``); :mod:`~sim.charts.chartset` draws the standard set of a run,
:mod:`~sim.charts.briefing` the A4 page, :mod:`~sim.charts.style` holds palette, footer and saving.
"""
