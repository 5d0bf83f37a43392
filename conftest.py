# The docs harness: runs the code blocks of docs/*.md in a container per page.
pytest_plugins = ["tests.docs_harness", "tests.module_timings"]
