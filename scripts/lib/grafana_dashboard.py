"""Reads deploy/grafana/rstwatch-dashboard.json for scripts/prometheus-check:
its panel queries with the dashboard's variables substituted the way
Grafana would, and the structure Grafana needs (no Grafana runs here)."""

import re

VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def substitute(expr, variables):
    """expr with every $name and ${name} replaced; KeyError names an unknown one."""
    return VARIABLE.sub(lambda match: variables[match.group(1) or match.group(2)], expr)


def metric_names(expr):
    """Metric and recording-rule names a PromQL expression selects."""
    bare = STRING.sub('""', expr)
    names = set()
    for match in NAME.finditer(bare):
        name = match.group(0)
        rest = bare[match.end() :].lstrip()
        if "rstwatch_" in name or name.startswith("process_"):
            names.add(name)
        elif name == "up" and rest.startswith("{"):
            names.add(name)
    return names


def panels(dashboard):
    """Every panel, those inside collapsed rows too."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets(dashboard):
    """(panel title, refId, expr, instant) for every query of every panel."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel["title"], target["refId"], target["expr"], target.get("instant", False)


def structure_problems(dashboard):
    """What would stop Grafana from showing the dashboard as meant: empty when
    every panel queries the datasource variable, ids are unique and panels
    fit the 24-column grid without overlapping."""
    problems = []
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    source = variables.get("datasource", {})
    if source.get("type") != "datasource" or source.get("query") != "prometheus":
        problems.append("no datasource variable of type prometheus")
    if variables.get("instance", {}).get("type") != "query":
        problems.append("no instance query variable")
    ids = [panel["id"] for panel in panels(dashboard)]
    if len(ids) != len(set(ids)):
        problems.append(f"panel ids are not unique: {sorted(ids)}")
    cells = {}
    for panel in panels(dashboard):
        title = panel["title"]
        grid = panel["gridPos"]
        if grid["x"] + grid["w"] > 24:
            problems.append(f"{title}: wider than the 24-column grid")
        area = [(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])]
        overlapped = {cells[cell] for cell in area if cell in cells}
        if overlapped:
            problems.append(f"{title}: overlaps {sorted(overlapped)}")
        cells.update((cell, title) for cell in area)
        if panel["type"] == "row":
            continue
        if not panel.get("targets"):
            problems.append(f"{title}: no query")
        refs = [target["refId"] for target in panel.get("targets", [])]
        if len(refs) != len(set(refs)):
            problems.append(f"{title}: refIds repeat")
        for holder in [panel] + panel.get("targets", []):
            if holder.get("datasource", {}).get("uid") != "${datasource}":
                problems.append(f"{title}: does not query the datasource variable")
    return problems
