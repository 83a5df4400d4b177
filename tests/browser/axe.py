"""axe-core in the browser tests: run it on a page or frame and list what it finds.

axe-core comes from the npm registry (package.json's devDependencies, installed by `make setup`).
"""

from pathlib import Path

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(target, context=None):
    """axe-core's violations on ``target`` (a Playwright Page or Frame), as readable lines.

    ``context`` narrows the check to a CSS selector. Each line names the rule, its impact and the
    first offending nodes, so a failed assertion says what to fix.
    """
    target.add_script_tag(content=AXE_SCRIPT.read_text())
    results = target.evaluate(
        "async (context) => await axe.run(context || document, {resultTypes: ['violations']})",
        context,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(selector(node["target"]) for node in v["nodes"][:3])
        for v in results["violations"]
    ]


def selector(target):
    """axe-core's path to a node: a selector, or a list of them into shadow roots."""
    if not target:
        return "?"
    first = target[0]
    return " >>> ".join(first) if isinstance(first, list) else first


def assert_no_axe_violations(target, context=None):
    """Fail with axe-core's findings unless ``target`` has none."""
    violations = axe_violations(target, context)
    assert violations == [], "axe-core found:\n" + "\n".join(violations)
