"""Maps the import root `pacsbox` onto `services/` and the wizard onto `setup/wizard/`."""

from setuptools import find_packages, setup

PACKAGE_DIRS = {"pacsbox": "services", "pacsbox.wizard": "setup/wizard"}


def _packages() -> list[str]:
    names = []
    for root, folder in PACKAGE_DIRS.items():
        names.append(root)
        names += [f"{root}.{sub}" for sub in find_packages(folder)]
    return names


setup(
    packages=_packages(),
    package_dir=PACKAGE_DIRS,
    package_data={"pacsbox": ["**/*.html", "**/*.js", "**/*.css", "**/*.json", "**/*.sql"]},
    include_package_data=True,
)
