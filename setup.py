"""Maps the import root `pacsbox` onto `services/` and the wizard onto `setup/wizard/`."""

from setuptools import find_namespace_packages, setup

PACKAGE_DIRS = {"pacsbox": "services", "pacsbox.wizard": "setup/wizard"}


def _packages() -> list[str]:
    names = []
    for root, folder in PACKAGE_DIRS.items():
        names.append(root)
        # folders of data only (pages, the explorer's files) are packages too, so their files are package data
        names += [f"{root}.{sub}" for sub in find_namespace_packages(folder, exclude=["*__pycache__*"])]
    return names


setup(
    packages=_packages(),
    package_dir=PACKAGE_DIRS,
    package_data={"pacsbox": ["**/*.html", "**/*.js", "**/*.css", "**/*.json", "**/*.sql"]},
    include_package_data=True,
)
