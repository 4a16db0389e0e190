pytest_plugins = [
    "tests.fixtures.backends",
    "tests.fixtures.browser",
    "tests.fixtures.dovecot",
    "tests.fixtures.leftovers",
]
