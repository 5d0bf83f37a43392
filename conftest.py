# The docs harness: runs the code blocks of docs/*.md in a container per page.
pytest_plugins = ["harness.plugin", "harness.module_timings", "harness.ordering"]
