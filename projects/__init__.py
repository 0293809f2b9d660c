"""Social projects and their trajectories through the three levels of support."""

from flask import Flask

from webapp import signals


def init_app(app: Flask) -> None:
    """Register the blueprint and connect this package's receivers (webapp.signals)."""
    from projects import outcomes
    from projects.outcomes.demo import load_demo_projects_and_outcomes
    from projects.services import editing, steps
    from projects.views import bp

    app.register_blueprint(bp)
    signals.course_completed.connect(steps.tick_steps_for_completions)  # trajectory steps
    signals.personal_data_requested.connect(editing.export_projects)
    # the projects' demo, then their audits and stories (blinker keeps no order of receivers)
    signals.demo_data_loading.connect(load_demo_projects_and_outcomes)
    outcomes.init_app(app)  # the entry audit and the stories (projects.outcomes)
