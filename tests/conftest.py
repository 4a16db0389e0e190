pytest_plugins = [
    "tests.fixtures.backends",
    "tests.fixtures.dovecot",
    "tests.fixtures.processes",
]
