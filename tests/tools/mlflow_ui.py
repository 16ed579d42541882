"""The MLflow UI's pages as a user clicks through them, for the browser test and the docs' screenshots."""

from __future__ import annotations

import json

# The clicks a user makes in the explain experiment's runs page: expand the model's run (the button in
# its name cell), then "Show all runs" in the menu under the table header's eye icon.
EXPAND_RUN = """Array.from(document.querySelectorAll('a')).find(a => a.innerText === %s)
  .closest('[role=gridcell]').querySelector('button').click()"""
OPEN_VISIBILITY_MENU = """document.querySelector('button[aria-label="Toggle visibility of runs"]')
  .dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}))"""
SHOW_ALL_RUNS = "Array.from(document.querySelectorAll('[role=menuitemradio]')).find(x => x.innerText === 'Show all runs').click()"
# Scroll the Chart view to a section (its header, not the experiment note's text), so its charts render.
SCROLL_TO_SECTION = """Array.from(document.querySelectorAll('[data-testid=experiment-view-compare-runs-section-header]'))
  .find(h => h.innerText.split('\\n')[0] === %s).scrollIntoView({block: 'start'})"""
# Every drawn chart: its title, its section's name and its bars (Plotly's data: run ids and values).
CHARTS = """Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => {
  const card = plot.closest('[data-testid=experiment-view-compare-runs-card]');
  let section = card.parentElement;
  while (section && !section.querySelector('[data-testid=experiment-view-compare-runs-section-header]')) section = section.parentElement;
  const header = section.querySelector('[data-testid=experiment-view-compare-runs-section-header]');
  return {title: card.innerText.split('\\n')[0], section: header.innerText.split('\\n')[0],
          runs: (plot.data || []).flatMap(trace => trace.y || []), values: (plot.data || []).flatMap(trace => trace.x || [])};
})"""


def open_method_charts(browser, url: str, experiment_id: str, model_run_name: str, n_methods: int, section: str) -> None:
    """The explain experiment's Chart view with the model's method runs shown (expand the run, show all
    runs), scrolled to ``section``, once one of its charts has a bar per method."""
    browser.open(f"{url}/#/experiments/{experiment_id}/runs?workflowType=machine_learning&compareRunsMode=CHART")
    browser.wait_for(f"document.body.innerText.includes({json.dumps(model_run_name)})")
    browser.evaluate(EXPAND_RUN % json.dumps(model_run_name))
    browser.wait_for("document.querySelectorAll('[role=row]').length > 3")
    browser.evaluate(OPEN_VISIBILITY_MENU)
    browser.wait_for("document.querySelectorAll('[role=menuitemradio]').length > 0")
    browser.evaluate(SHOW_ALL_RUNS)
    browser.evaluate(SCROLL_TO_SECTION % json.dumps(section))
    browser.wait_for(f"({CHARTS}).some(c => c.section === {json.dumps(section)} && c.runs.length === {n_methods})")
