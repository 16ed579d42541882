"""The MLflow UI's pages as a user clicks through them, for the browser test and the docs' screenshots."""

from __future__ import annotations

import json

# What a user clicks in the explain experiment's runs page, as JavaScript expressions that find the element
# (undefined until the page has rendered it): the button in the model run's name cell that expands it,
# the eye icon in the table's header, the "Show all runs" item of its menu, and a Chart view section's
# header (not the experiment note's text of the same name).
RUN_EXPANDER = """(Array.from(document.querySelectorAll('[role=gridcell] a')).find(a => a.innerText === %s) || {closest() {}})
  .closest('[role=gridcell]')?.querySelector('button')"""
VISIBILITY_MENU = """document.querySelector('button[aria-label="Toggle visibility of runs"]')"""
SHOW_ALL_RUNS = "Array.from(document.querySelectorAll('[role=menuitemradio]')).find(x => x.innerText === 'Show all runs')"
SECTION_HEADER = """Array.from(document.querySelectorAll('[data-testid=experiment-view-compare-runs-section-header]'))
  .find(h => h.innerText.split('\\n')[0] === %s)"""
# Every drawn chart: its title, its section's name and its bars (Plotly's data: run ids and values).
CHARTS = """Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => {
  const card = plot.closest('[data-testid=experiment-view-compare-runs-card]');
  let section = card.parentElement;
  while (section && !section.querySelector('[data-testid=experiment-view-compare-runs-section-header]')) section = section.parentElement;
  const header = section.querySelector('[data-testid=experiment-view-compare-runs-section-header]');
  return {title: card.innerText.split('\\n')[0], section: header.innerText.split('\\n')[0],
          runs: (plot.data || []).flatMap(trace => trace.y || []), values: (plot.data || []).flatMap(trace => trace.x || [])};
})"""


def act(browser, element: str, action: str = "click()") -> None:
    """Wait until the JavaScript ``element`` expression finds an element, then run ``action`` on it."""
    browser.wait_for(f"!!({element})")
    browser.evaluate(f"({element}).{action}")


def open_method_charts(browser, url: str, experiment_id: str, model_run_name: str, n_methods: int, section: str) -> None:
    """The explain experiment's Chart view with the model's method runs shown (expand the run, show all
    runs), scrolled to ``section``, once one of its charts has a bar per method."""
    browser.open(f"{url}/#/experiments/{experiment_id}/runs?workflowType=machine_learning&compareRunsMode=CHART")
    act(browser, RUN_EXPANDER % json.dumps(model_run_name))
    browser.wait_for(f"document.querySelectorAll('[role=gridcell] a').length > {n_methods}")
    act(browser, VISIBILITY_MENU, "dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}))")
    act(browser, SHOW_ALL_RUNS)
    act(browser, SECTION_HEADER % json.dumps(section), "scrollIntoView({block: 'start'})")
    browser.wait_for(f"({CHARTS}).some(c => c.section === {json.dumps(section)} && c.runs.length === {n_methods})")
